import type { DataSource } from 'typeorm';

import { PostbackConfigurationError } from '../errors/postback-configuration.error.js';
import { assertSupportedEngine } from './supported-engines.js';

/** A DataSource of the given type whose server reports `row`. */
function server(type: string, row: Record<string, string>): DataSource {
  return { options: { type }, query: async () => [row] } as unknown as DataSource;
}

describe('assertSupportedEngine', () => {
  it.each([
    ['postgres', { server_version: '15.19 (Debian 15.19-0+deb12u1)' }],
    ['postgres', { server_version: '9.5.0' }],
    ['mysql', { version: '10.11.19-MariaDB-0+deb12u1' }],
    ['mysql', { version: '10.6.0-MariaDB' }],
    ['mysql', { version: '8.0.36' }],
    ['mysql', { version: '8.0.1' }],
    ['mariadb', { version: '11.4.2-MariaDB' }],
    ['better-sqlite3', {}],
  ])('accepts %s %j', async (type, row) => {
    await expect(assertSupportedEngine(server(type, row))).resolves.toBeUndefined();
  });

  it.each([
    ['postgres', { server_version: '9.4.26' }, /PostgreSQL 9\.4\.26 is too old.*9\.5/],
    ['mysql', { version: '10.5.23-MariaDB' }, /MariaDB 10\.5\.23 is too old.*10\.6/],
    ['mysql', { version: '5.7.44-log' }, /MySQL 5\.7\.44 is too old.*8\.0\.1/],
    ['mysql', { version: '8.0.0-dmr' }, /MySQL 8\.0\.0 is too old/],
    ['mssql', {}, /"mssql" is not supported/],
  ])('refuses %s %j at start-up', async (type, row, message) => {
    const check = assertSupportedEngine(server(type, row));
    await expect(check).rejects.toThrow(PostbackConfigurationError);
    await expect(assertSupportedEngine(server(type, row))).rejects.toThrow(message);
  });
});
