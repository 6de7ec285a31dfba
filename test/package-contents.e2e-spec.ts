import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(import.meta.dirname, '..');

interface PackEntry {
  files: { path: string }[];
}

interface ExportTarget {
  types: string;
  default: string;
}

/** What `npm pack` would put in the tarball, from the built tree (`npm test` builds first). */
async function packedFiles(): Promise<Set<string>> {
  // --ignore-scripts: prepack would rebuild dist/ under the running suites' feet.
  const { stdout } = await promisify(execFile)(
    'npm',
    ['pack', '--dry-run', '--json', '--ignore-scripts'],
    { cwd: ROOT, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
  );
  const [entry] = JSON.parse(stdout) as PackEntry[];
  return new Set(entry.files.map((file) => file.path));
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { import: ExportTarget; require: ExportTarget }>;
  bin: Record<string, string>;
  main: string;
  types: string;
};

describe('the npm tarball', () => {
  let files: Set<string>;

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist/cjs/index.js'))) {
      throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    }
    files = await packedFiles();
    // npm pack --dry-run reads the whole tree: seconds on a busy machine.
  }, 60_000);

  it('holds every file the exports map, main, types and bin point at, in both formats', () => {
    const targets = [pkg.main, pkg.types, ...Object.values(pkg.bin)];
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') {
        targets.push(target);
        continue;
      }
      expect({ subpath, formats: Object.keys(target).sort() }).toEqual({
        subpath,
        formats: ['import', 'require'],
      });
      targets.push(target.import.types, target.import.default);
      targets.push(target.require.types, target.require.default);
    }
    const missing = targets.map((t) => t.replace(/^\.\//, '')).filter((t) => !files.has(t));
    expect(missing).toEqual([]);
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/cjs/index.js');
  });

  it('marks the CommonJS build as CommonJS, and compiled it as such', () => {
    expect(files).toContain('dist/cjs/package.json');
    const marker = JSON.parse(readFileSync(join(ROOT, 'dist/cjs/package.json'), 'utf8'));
    expect(marker).toEqual({ type: 'commonjs' });
    const cjs = readFileSync(join(ROOT, 'dist/cjs/index.js'), 'utf8');
    expect(cjs).toMatch(/require\("\.\/postback\.module\.js"\)/);
    // No ES module syntax a CommonJS loader would choke on, anywhere in that build.
    const offenders = [...files]
      .filter((f) => f.startsWith('dist/cjs/') && /\.c?js$/.test(f))
      .filter((f) => /\bimport\.meta\b|^\s*(import|export)\s[^(]/m.test(withoutComments(read(f))));
    expect(offenders).toEqual([]);
  });

  it('ships the migrations and the SQLite writer thread in both formats, with declarations', () => {
    const migrations = readdirSync(join(ROOT, 'src/database/migrations'))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))
      .map((f) => f.replace(/\.ts$/, ''));
    expect(migrations.length).toBeGreaterThan(0);
    for (const build of ['dist', 'dist/cjs']) {
      for (const migration of migrations) {
        expect(files).toContain(`${build}/database/migrations/${migration}.js`);
        expect(files).toContain(`${build}/database/migrations/${migration}.d.ts`);
      }
      expect(files).toContain(`${build}/database/sqlite-writer.worker.js`);
      expect(files).toContain(`${build}/database/sqlite-writer-worker-file.cjs`);
      expect(files).toContain(`${build}/index.d.ts`);
      expect(files).toContain(`${build}/testing/index.d.ts`);
    }
    expect(files).toContain('config/postback.yaml');
    expect(files).toContain('LICENSE');
  });

  it('ships no tests, specs, bench, sources, source maps or demo', () => {
    const unwanted = [...files].filter(
      (f) =>
        /(^|\/)(test|bench|src|dist-bench|node_modules)\//.test(f) ||
        /\.spec\.|\.e2e-spec\.|\.db-spec\./.test(f) ||
        /\.map$|\.tsbuildinfo$/.test(f) ||
        /^dist\/(cjs\/)?demo\//.test(f),
    );
    expect(unwanted).toEqual([]);
  });
});

function withoutComments(code: string): string {
  return code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

function read(file: string): string {
  return readFileSync(join(ROOT, file), 'utf8');
}
