import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';

/**
 * Visitor keys are stored hashed from this version on (see `visitorKeyDigest`). This creates
 * `postback_meta`, where the module records which key the stored digests are made with; the
 * keys stored in clear by earlier versions are hashed by the module itself at its first start
 * (see VisitorKeyCheck), not here: only the module knows `capture.visitorKeySecret`, and a
 * migration run from the TypeORM CLI without it would hash them under another key.
 *
 * One-way: `down` drops the table and leaves the digests, which earlier code cannot find.
 */
export class HashVisitorKeys1764400000000 implements MigrationInterface {
  name = 'HashVisitorKeys1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'postback_meta',
        columns: [
          { name: 'name', type: 'varchar', length: '64', isPrimary: true },
          { name: 'value', type: 'varchar', length: '255', isNullable: false },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('postback_meta');
  }
}
