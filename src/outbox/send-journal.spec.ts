import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { PostbackDatabase } from '../database/postback-database.js';
import { sendMarksFor } from './send-journal.js';

describe('the SQLite send journal', () => {
  let dir: string;
  let inFlight: { id: string; claimToken: string }[];
  const dbAt = (database: string) =>
    ({
      serialised: true,
      dataSource: { options: { database } },
      run: async (work: (manager: unknown) => Promise<unknown>) =>
        work({ find: async () => inFlight }),
    }) as unknown as PostbackDatabase;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'send-journal-'));
    inFlight = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("is read by the next process on the file: a killed worker's marks outlive it", async () => {
    const file = join(dir, 'db.sqlite');
    await sendMarksFor(dbAt(file)).mark([{ id: 'a', claimToken: 't1' }], 1_000);
    const next = sendMarksFor(dbAt(file));
    expect(next.sentAt({ id: 'a', claimToken: 't1' })).toBe(1_000);
    // Another claim of the same row is another story: it was never sent.
    expect(next.sentAt({ id: 'a', claimToken: 't2' })).toBeNull();
    expect(next.sentAt({ id: 'b', claimToken: 't1' })).toBeNull();
  });

  it('keeps only the marks of rows still in flight once it grows', async () => {
    const file = join(dir, 'db.sqlite');
    const marks = sendMarksFor(dbAt(file));
    const rows = Array.from({ length: 10_000 }, (_, i) => ({ id: `r${i}`, claimToken: 't' }));
    inFlight = [rows[7]];
    await marks.mark(rows, 5);
    expect(marks.sentAt(rows[7])).toBe(5);
    expect(marks.sentAt(rows[8])).toBeNull();
    expect(readFileSync(`${file}-sending`, 'utf8')).toBe('t r7 5\n');
  });

  it('keeps marks in memory for a database in memory', async () => {
    const marks = sendMarksFor(dbAt(':memory:'));
    await marks.mark([{ id: 'a', claimToken: 't' }], 3);
    expect(marks.sentAt({ id: 'a', claimToken: 't' })).toBe(3);
  });
});
