import { readFileSync, writeFileSync } from 'node:fs';

import { presetsMarkdown } from '../tools/presets-doc.js';

const PAGE = 'docs/presets.md';

describe('docs/presets.md', () => {
  it('is the one the preset registry gives (npm run docs:presets rewrites it)', () => {
    const current = presetsMarkdown();
    if (process.env.UPDATE_PRESETS_DOC === '1') writeFileSync(PAGE, current);
    expect(readFileSync(PAGE, 'utf8')).toBe(current);
  });
});
