import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throw-away directory for SQLite files; call the returned function to remove it. */
export function tempDir(): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'postback-test-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
