/** Where and on what the bench ran: the head of bench-results/latest.json. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

import { ROOT } from './paths.js';

function git(...args: string[]): string | undefined {
  try {
    return execFileSync('git', args, {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

function version(pkg: string): string | undefined {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8'))
      .version;
  } catch {
    return undefined;
  }
}

/** The machine, the commit, the versions, and the `settings` the figures ran with. */
export function environment(settings: Record<string, unknown>) {
  const cpus = os.cpus();
  const changed = git('status', '--porcelain', '--untracked-files=no');
  return {
    timestamp: new Date().toISOString(),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpu: cpus[0]?.model,
    cores: cpus.length,
    memoryMb: Math.round(os.totalmem() / 2 ** 20),
    loadAverageAtStart: os.loadavg().map((l) => +l.toFixed(2)),
    git: {
      commit: git('rev-parse', 'HEAD'),
      // Tracked files changed since that commit: the figures measure the working tree.
      modifiedFiles: changed === undefined ? undefined : changed.split('\n').filter(Boolean).length,
    },
    versions: {
      typeorm: version('typeorm'),
      betterSqlite3: version('better-sqlite3'),
      pg: version('pg'),
      nestCore: version('@nestjs/core'),
      autocannon: version('autocannon'),
    },
    settings,
  };
}
