import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The repository root (this file runs from dist-bench/bench/lib). */
export const ROOT = resolve(HERE, '..', '..', '..');
/** The compiled child processes (bench/processes). */
export const PROCESSES = resolve(HERE, '..', 'processes');
export const RESULTS = join(ROOT, 'bench-results');
export const LOGS = join(RESULTS, 'logs');
export const PROFILES = join(RESULTS, 'profiles');
