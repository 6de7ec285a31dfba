import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The package's docs/openapi.json: the package root is the nearest directory above this file
 * with a package.json (two levels up in src/ and dist/, three in dist/cjs/). A CommonJS file in
 * both builds so that it can use `__dirname`: the CommonJS build cannot contain `import.meta`.
 */
function packageFile(...path: string[]): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) || dir.endsWith(join('dist', 'cjs'))) {
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return join(dir, ...path);
}

export const OPENAPI_DOCUMENT = packageFile('docs', 'openapi.json');
