import { type MigrationInterface, type QueryRunner, TableIndex } from 'typeorm';

/**
 * Drops `IDX_postback_clicks_click_id`. Every click lookup by ID is also by tracker (a
 * configured tracker's name, or all of them), which the unique (tracker, click_id,
 * visitor_key) index serves; the extra index only cost each captured click one more B-tree
 * insertion at a random place.
 */
export class DropClickIdIndex1764200000000 implements MigrationInterface {
  name = 'DropClickIdIndex1764200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('postback_clicks', 'IDX_postback_clicks_click_id');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createIndex(
      'postback_clicks',
      new TableIndex({ name: 'IDX_postback_clicks_click_id', columnNames: ['click_id'] }),
    );
  }
}
