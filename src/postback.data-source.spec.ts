import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DataSource } from 'typeorm';

import { postbackDataSourceOptions } from './postback.data-source.js';

describe('postbackDataSourceOptions on SQLite', () => {
  let dir: string;
  let dataSource: DataSource | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'postback-options-'));
  });
  afterEach(async () => {
    await dataSource?.destroy();
    dataSource = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const pragma = async (name: string) =>
    Object.values((await dataSource!.query(`PRAGMA ${name}`))[0] as object)[0];

  it.each([
    ['FULL', 2],
    ['NORMAL', 1],
  ] as const)(
    'opens the file in WAL mode at synchronous %s, temporary files in memory',
    async (level, value) => {
      dataSource = new DataSource(
        postbackDataSourceOptions({
          url: `sqlite:${join(dir, 'a.sqlite')}`,
          sqliteSynchronous: level,
        }),
      );
      await dataSource.initialize();
      expect(await pragma('journal_mode')).toBe('wal');
      expect(await pragma('synchronous')).toBe(value);
      // Statement journals of multi-row writes (the click buffer's) stay off the disk.
      expect(await pragma('temp_store')).toBe(2);
    },
  );
});
