import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { tempDir } from './sqlite.js';

/**
 * Real failing storage for SQLite files, made with the kernel's own file systems: a tmpfs that
 * fills up (SQLITE_FULL, ENOSPC) and an ext4 on a loop device whose backing file is shrunk
 * under it (every write past the new end fails with EIO: SQLITE_IOERR). Both need root; where
 * they cannot be had, `unavailable` says why and the caller skips with that reason printed.
 */
export interface FailingDisk {
  dir: string;
  /** Makes writes fail: fills the tmpfs, or shrinks the loop device. */
  fail(): void;
  /** Makes room again (tmpfs only; a shrunk ext4 stays failed). */
  repair(): void;
  remove(): void;
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Why a small tmpfs cannot be mounted here, or undefined when it can. */
export function tmpfsUnavailable(): string | undefined {
  if (!isRoot) return 'not running as root: a tmpfs cannot be mounted';
  return probe(() => smallTmpfs(1024 * 1024).remove());
}

/** Why a loop device cannot be used here, or undefined when it can. */
export function loopDeviceUnavailable(): string | undefined {
  if (!isRoot) return 'not running as root: no loop device';
  return probe(() => shrinkingExt4().remove());
}

function probe(attempt: () => void): string | undefined {
  try {
    attempt();
    return undefined;
  } catch (error) {
    return (error as Error).message.split('\n')[0];
  }
}

/** A tmpfs of `bytes`; `fail()` fills it with a filler file, `repair()` deletes that file. */
export function smallTmpfs(bytes: number): FailingDisk {
  const parent = tempDir();
  const dir = join(parent.path, 'tmpfs');
  mkdirSync(dir);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    parent.remove();
    throw error;
  }
  const filler = join(dir, 'filler');
  return {
    dir,
    fail() {
      try {
        writeFileSync(filler, Buffer.alloc(bytes));
      } catch (error) {
        if ((error as { code?: string }).code !== 'ENOSPC') throw error;
      }
    },
    repair() {
      rmSync(filler, { force: true });
    },
    remove() {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      parent.remove();
    },
  };
}

/** An 8 MB ext4 on a loop device; `fail()` shrinks its backing file to 1 MB under it. */
export function shrinkingExt4(): FailingDisk {
  const parent = tempDir();
  const image = join(parent.path, 'disk.img');
  const dir = join(parent.path, 'mnt');
  mkdirSync(dir);
  execFileSync('truncate', ['-s', '8M', image]);
  execFileSync('mkfs.ext4', ['-q', '-F', image], { stdio: 'pipe' });
  let loop: string;
  try {
    loop = execFileSync('losetup', ['-f', '--show', image], { stdio: 'pipe' }).toString().trim();
  } catch (error) {
    parent.remove();
    throw error;
  }
  try {
    execFileSync('mount', [loop, dir], { stdio: 'pipe' });
  } catch (error) {
    execFileSync('losetup', ['-d', loop]);
    parent.remove();
    throw error;
  }
  return {
    dir,
    fail() {
      execFileSync('truncate', ['-s', '1M', image]);
      execFileSync('losetup', ['-c', loop]);
    },
    repair() {
      throw new Error('a shrunk loop device is not repaired');
    },
    remove() {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      execFileSync('losetup', ['-d', loop], { stdio: 'pipe' });
      parent.remove();
    },
  };
}
