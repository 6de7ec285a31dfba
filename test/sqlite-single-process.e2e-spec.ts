import { spawnSync } from 'node:child_process';

import { DataSource } from 'typeorm';

import { postbackDataSourceOptions } from '../src/postback.data-source.js';
import { tempDir } from './utils/sqlite.js';

describe('SQLite: one process per database file', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => dir.remove());

  it('refuses a second connection on a file in use, and allows it once the first is closed', async () => {
    const url = `sqlite:${dir.path}/shared.sqlite`;
    const first = await new DataSource(postbackDataSourceOptions({ url })).initialize();
    const second = new DataSource(postbackDataSourceOptions({ url, sqliteBusyTimeoutMs: 200 }));
    await expect(second.initialize()).rejects.toThrow(/in use by another process/);

    await first.destroy();
    const third = await new DataSource(postbackDataSourceOptions({ url })).initialize();
    expect(await third.query('SELECT COUNT(*) AS n FROM postback_outbox')).toEqual([{ n: 0 }]);
    await third.destroy();
  });

  it('refuses a second agent in another operating-system process while the file is in use', async () => {
    const file = `${dir.path}/other.sqlite`;
    const holder = await new DataSource(
      postbackDataSourceOptions({ url: `sqlite:${file}` }),
    ).initialize();
    try {
      // The built data-source options in a child process, as a second agent would open it.
      const options = new URL('../dist/postback.data-source.js', import.meta.url).href;
      const child = spawnSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `import { DataSource } from 'typeorm';
           import { postbackDataSourceOptions } from ${JSON.stringify(options)};
           const url = ${JSON.stringify(`sqlite:${file}`)};
           try { await new DataSource(postbackDataSourceOptions({ url, sqliteBusyTimeoutMs: 200 })).initialize(); console.log('opened'); }
           catch (e) { console.log(e.message); }`,
        ],
        { encoding: 'utf8', cwd: process.cwd() },
      );
      expect(child.stdout.trim()).toMatch(/in use by another process/);
    } finally {
      await holder.destroy();
    }
  });
});
