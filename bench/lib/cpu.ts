import { readdirSync, readFileSync } from 'node:fs';

/**
 * A /proc `stat` line's name and CPU time (ms, user + system). The name is in parentheses and
 * may hold spaces, so the other fields are counted after its end; USER_HZ is 100 on Linux.
 */
function parseStat(stat: string): { name: string; cpuMs: number } {
  const end = stat.lastIndexOf(')');
  const fields = stat.slice(end + 2).split(' ');
  return {
    name: stat.slice(stat.indexOf('(') + 1, end),
    cpuMs: (Number(fields[11]) + Number(fields[12])) * 10,
  };
}

/** The entries of a /proc directory, or none where there is no /proc. */
function procEntries(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/**
 * CPU time (ms, user + system) each thread of this process has used so far, read from
 * /proc/self/task (Linux; empty elsewhere). The main thread is `main`; the others are summed by
 * their kernel name (on Node 20 all are `node`: the SQLite writer's worker thread, libuv's pool,
 * V8's helpers), so a figure can say how much of its cost lands off the main thread: on two
 * cores, a second busy thread competes with the load generator or the receiver.
 */
export function threadCpuMs(): Record<string, number> {
  const byThread: Record<string, number> = {};
  for (const tid of procEntries('/proc/self/task')) {
    try {
      const { name, cpuMs } = parseStat(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8'));
      const thread = Number(tid) === process.pid ? 'main' : name;
      byThread[thread] = (byThread[thread] ?? 0) + cpuMs;
    } catch {
      // the thread ended meanwhile
    }
  }
  return byThread;
}

/** What each thread used since `before` (from `threadCpuMs`), in ms. */
export function threadCpuSince(before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(threadCpuMs()).map(([name, ms]) => [name, ms - (before[name] ?? 0)]),
  );
}

/** What each thread used since `before` (from `threadCpuMs`), in µs per item. */
export function threadCpuPerItem(
  before: Record<string, number>,
  items: number,
): Record<string, number> {
  return perItemUs(threadCpuSince(before), items);
}

/** CPU times in ms as µs per item, those that used none left out. */
export function perItemUs(cpuMs: Record<string, number>, items: number): Record<string, number> {
  const perItem: Record<string, number> = {};
  for (const [name, ms] of Object.entries(cpuMs)) {
    if (ms > 0) perItem[name] = Math.round((ms * 1000) / Math.max(1, items));
  }
  return perItem;
}

/**
 * CPU time (ms) used so far by the processes of this machine named `name` (PostgreSQL's
 * server and backends are all `postgres`), read from /proc: the database's share of a figure
 * whose server runs here. Processes that end in between are not counted, so read it while the
 * connections of interest are open.
 */
export function processesCpuMs(name: string): number {
  let total = 0;
  for (const pid of procEntries('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      const stat = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      if (stat.name === name) total += stat.cpuMs;
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}
