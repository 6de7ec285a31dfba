import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/**
 * Adds to the outbox `lost_claims`, claims whose lease expired before their postback was sent
 * (a worker killed with rows still queued), counted apart from the attempts; and `sending_at`,
 * written just before a claimed row's request goes out, so that a lease found expired tells
 * whether that request may have reached the tracker (an attempt) or never left (a lost claim).
 */
export class CountLostClaims1764500000000 implements MigrationInterface {
  name = 'CountLostClaims1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns('postback_outbox', [
      new TableColumn({ name: 'lost_claims', type: 'integer', default: 0 }),
      new TableColumn({ name: 'sending_at', type: 'bigint', isNullable: true }),
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('postback_outbox', 'sending_at');
    await queryRunner.dropColumn('postback_outbox', 'lost_claims');
  }
}
