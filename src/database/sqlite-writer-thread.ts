import { Worker } from 'node:worker_threads';

import { SQLITE_WRITER_WORKER_FILE } from './sqlite-writer-worker-file.cjs';

/** One statement of a batch: SQLite text with `?` placeholders, and their values in order. */
export interface WriterStatement {
  sql: string;
  values: unknown[];
}

/** What the writer thread needs to open its connection as the main one is. */
export interface WriterSettings {
  file: string;
  /** `PRAGMA synchronous` of the main connection (0–3, or a level's name). */
  synchronous: number | string;
  busyTimeoutMs: number;
}

/** Per statement: the rows, for one that returns rows (RETURNING too); else rows changed. */
export type WriterResult = Record<string, unknown>[] | number;

interface Pending {
  resolve(results: WriterResult[]): void;
  reject(error: Error): void;
}

type Reply =
  | { id: number; results: WriterResult[] }
  | { id: number; error: { message: string; code?: string } };

/**
 * A second connection to a SQLite file, on a worker thread, so that a batch's statements and
 * its COMMIT's fsync hold the worker, not the event loop (better-sqlite3 is synchronous).
 * Not concurrency: PostbackDatabase queues the batches and the main connection's work one
 * behind the other, so neither meets the other's lock or a stale snapshot. If the worker dies,
 * the batches it held fail and the next batch starts a new one.
 */
export class SqliteWriterThread {
  private worker?: Worker;
  /**
   * The batches sent and not yet answered, oldest first (the worker answers in order). An
   * array, not a Map keyed by id: see docs/internals/performance-notes.md (Map or Set).
   */
  private readonly pending: (Pending & { id: number })[] = [];
  private nextId = 0;

  constructor(private readonly settings: WriterSettings) {}

  /** Runs `statements` in order in one transaction; all of them commit, or none. */
  run(statements: WriterStatement[]): Promise<WriterResult[]> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<WriterResult[]>((resolve, reject) => {
      this.pending.push({ id, resolve, reject });
      // A batch in flight keeps the process alive, an idle worker does not.
      if (this.pending.length === 1) worker.ref();
      worker.postMessage({ id, statements });
    });
  }

  /** Closes the worker's connection and ends it; batches already sent finish first. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ close: true });
    worker.ref();
    await exited;
  }

  /** Starts the worker now, if it is not running (else the first batch starts it). */
  start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(SQLITE_WRITER_WORKER_FILE, {
      workerData: this.settings,
    });
    worker.unref();
    worker.on('message', (reply: Reply) => {
      const index = this.pending.findIndex((batch) => batch.id === reply.id);
      if (index < 0) return;
      const [pending] = this.pending.splice(index, 1);
      if (this.pending.length === 0) worker.unref();
      if ('results' in reply) {
        pending.resolve(reply.results);
      } else {
        // The shape of a driver's error, so that callers tell a refused value or a busy lock.
        pending.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
      }
    });
    const stopped = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const pending of this.pending.splice(0)) pending.reject(error);
    };
    worker.on('error', (error) =>
      stopped(new Error(`the SQLite writer thread failed: ${error.message}`, { cause: error })),
    );
    worker.on('exit', (code) =>
      stopped(new Error(`the SQLite writer thread stopped (exit code ${code})`)),
    );
    this.worker = worker;
    return worker;
  }
}
