import { join } from 'node:path';

/**
 * Where the writer thread's file is, next to this one. A CommonJS file in both builds (ES
 * modules import it as any CommonJS module), so that it can use `__dirname`: the package's
 * CommonJS build cannot contain `import.meta`, and the worker is started by path.
 */
export const SQLITE_WRITER_WORKER_FILE = join(__dirname, 'sqlite-writer.worker.js');
