import { jest } from '@jest/globals';
import request from 'supertest';
import { DataSource } from 'typeorm';

import { useShop } from './fixtures/shop-app.js';

/**
 * In a host app there are no agent filters: Nest's own handler logs whatever the module
 * rethrows, inspected whole (its cause too). The statement's parameters (order IDs, session
 * keys) must not be in any of it, whether the database refused the statement or is down.
 */
describe('database errors in a host app', () => {
  const shop = useShop((trackerUrl, databaseUrl) => ({
    databaseUrl,
    options: {
      trackers: [
        {
          name: 'network',
          clickParams: ['cid'],
          postback: { url: `${trackerUrl}?cid={click_id}` },
          events: ['purchase'],
        },
      ],
      outbox: { enabled: false },
    },
  }));

  async function checkoutLogged(): Promise<{ status: number; logged: string }> {
    const written: string[] = [];
    const keep = (chunk: unknown) => {
      written.push(String(chunk));
      return true;
    };
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(keep as never);
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(keep as never);
    try {
      const answer = await request(shop.app.getHttpServer())
        .post('/checkout')
        .send({
          orderId: 'ORDER-SECRET',
          amount: '10.00',
          currency: 'EUR',
          customerId: 'C-SECRET',
        });
      return { status: answer.status, logged: written.join('') };
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
  }

  it('logs a refused statement without its parameters or query', async () => {
    await shop.app.get(DataSource).query('DROP TABLE "postback_conversions"');
    const { status, logged } = await checkoutLogged();
    expect(status).toBe(500);
    expect(logged).toMatch(/no such table/);
    expect(logged).not.toMatch(/SECRET/);
    expect(logged).not.toMatch(/parameters|SELECT|INSERT/);
  });

  it('logs an outage without the refused statement or its parameters', async () => {
    await shop.app.get(DataSource).query('PRAGMA query_only = ON');
    const { status, logged } = await checkoutLogged();
    expect(status).toBe(500);
    expect(logged).toMatch(/cannot take writes/);
    expect(logged).not.toMatch(/SECRET/);
    expect(logged).not.toMatch(/parameters|SELECT|INSERT/);
  });
});
