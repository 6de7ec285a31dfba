import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

/**
 * Every relative link of the user-facing pages (README, CONTRIBUTING, CHANGELOG, docs/) points to a file that exists and, with a
 * `#fragment`, to a heading of that file (GitHub's anchors), so moving a section cannot leave
 * a README or docs link dangling.
 */
const PAGES = [
  'README.md',
  'CONTRIBUTING.md',
  'CHANGELOG.md',
  ...['docs', 'docs/internals'].flatMap((dir) =>
    readdirSync(dir)
      .filter((name) => name.endsWith('.md'))
      .map((name) => `${dir}/${name}`),
  ),
];

/** GitHub's heading anchors: lower case, punctuation dropped, each space a hyphen. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const [, heading] of withoutFences(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const slug = heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    out.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return out;
}

function withoutFences(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '');
}

function withoutCode(markdown: string): string {
  return withoutFences(markdown).replace(/`[^`\n]*`/g, '');
}

function brokenLinks(page: string): string[] {
  const text = readFileSync(page, 'utf8');
  const broken: string[] = [];
  for (const [, target] of withoutCode(text).matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z][a-z+.-]*:/i.test(target)) continue; // https:, mailto:
    const [path, fragment] = target.split('#', 2);
    const file = path ? normalize(join(dirname(page), decodeURIComponent(path))) : page;
    if (!existsSync(file)) {
      broken.push(`${target}: no file ${file}`);
    } else if (fragment !== undefined) {
      if (statSync(file).isDirectory() || !file.endsWith('.md')) {
        broken.push(`${target}: a fragment on a file that is not a page`);
      } else if (!anchors(readFileSync(file, 'utf8')).has(fragment)) {
        broken.push(`${target}: no heading #${fragment} in ${file}`);
      }
    }
  }
  return broken;
}

describe('links between the documentation pages', () => {
  it('covers the README, CONTRIBUTING.md and docs/', () => {
    expect(PAGES).toEqual(
      expect.arrayContaining(['README.md', 'CONTRIBUTING.md', 'docs/configuration.md']),
    );
  });

  it.each(PAGES)('%s links only to files and headings that exist', (page) => {
    expect(brokenLinks(page)).toEqual([]);
  });
});
