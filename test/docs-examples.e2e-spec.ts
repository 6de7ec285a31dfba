import { readFileSync } from 'node:fs';

const GUIDE = 'docs/verifying-postbacks.md';

// The receiver examples the guide shows are the files test/get-signature-receivers runs.
describe(`the examples in ${GUIDE}`, () => {
  const guide = readFileSync(GUIDE, 'utf8');
  const shown = [...guide.matchAll(/<!-- (docs\/examples\/\S+) -->\n```\w+\n([\s\S]*?)```/g)];

  it('show both receiver examples', () => {
    expect(shown.map(([, path]) => path)).toEqual([
      'docs/examples/verify-get.mjs',
      'docs/examples/verify-get.php',
    ]);
  });

  it.each(shown.map(([, path, code]) => [path, code]))('shows %s as it is', (path, code) => {
    expect(code).toBe(readFileSync(path, 'utf8'));
  });
});
