import { readFileSync, writeFileSync } from 'node:fs';

import { optionsMarkdown } from '../tools/options-doc.js';

const PAGE = 'docs/options.md';

describe('docs/options.md', () => {
  it('is the one the schema and the interface docs give (npm run docs:options rewrites it)', () => {
    const current = optionsMarkdown();
    if (process.env.UPDATE_OPTIONS_DOC === '1') writeFileSync(PAGE, current);
    expect(readFileSync(PAGE, 'utf8')).toBe(current);
  });
});
