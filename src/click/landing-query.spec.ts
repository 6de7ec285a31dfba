import { parse } from 'node:querystring';

import { resolvePostbackOptions } from '../options/resolve-options.js';
import { LandingQueryReader } from './landing-query.js';

const { trackers } = resolvePostbackOptions({
  trackers: [
    {
      name: 'net',
      clickParams: ['cid', 'click_id'],
      subParams: ['sub[1]', 'aff.sub'],
      postback: { url: 'https://t.example/pb?c={click_id}' },
    },
    { name: 'other', clickParams: ['oid'], postback: { url: 'https://o.example/pb?c={click_id}' } },
  ],
});
const reader = new LandingQueryReader(trackers.values());
const WANTED = ['cid', 'click_id', 'sub[1]', 'aff.sub', 'oid'];

/** What Express's default query parser gives for the wanted names. */
function expressQuery(url: string): Record<string, unknown> | undefined {
  const question = url.indexOf('?');
  if (question < 0) return undefined;
  const hash = url.indexOf('#', question);
  const all = parse(url.slice(question + 1, hash < 0 ? undefined : hash));
  const wanted = Object.fromEntries(WANTED.filter((n) => n in all).map((n) => [n, all[n]]));
  return Object.keys(wanted).length > 0 ? wanted : undefined;
}

describe('LandingQueryReader', () => {
  it.each([
    '/landing',
    '/landing?',
    '/landing?utm_source=x&page=2',
    '/landing?cid=abc',
    '/?cid=abc&utm_source=mail&oid=o-1',
    '/landing?cid=a%2Fb%20c+d&oid=%E2%82%AC',
    '/landing?cid=bad%E0%A4%A&x=1',
    '/landing?cid=one&cid=two&cid=three',
    '/landing?cid&oid=',
    '/landing?cid=a=b',
    '/landing?c%69d=encoded-name&aff.sub=plus+value',
    '/landing?sub[1]=s1&sub%5B1%5D=s2',
    '/landing?&&cid=x&&',
    '/landing?cid=x#cid=fragment',
    '/landing?=novalue&click_id=k',
  ])('reads %s as the default query parser does', (url) => {
    const query = reader.read(url);
    expect(query === undefined ? undefined : { ...query }).toEqual(expressQuery(url));
  });

  it('leaves the parameters no tracker names out', () => {
    expect({ ...reader.read('/l?utm_source=a&cid=c&gclid=g') }).toEqual({ cid: 'c' });
  });
});

describe('LandingQueryReader for a tracker with landingPlusAsSpace: false', () => {
  const { trackers: mixed } = resolvePostbackOptions({
    trackers: [
      {
        name: 'forms',
        clickParams: ['fcid'],
        postback: { url: 'https://t.example/pb?c={click_id}' },
      },
      {
        name: 'pluses',
        clickParams: ['pcid'],
        subParams: ['sub'],
        landingPlusAsSpace: false,
        postback: { url: 'https://t.example/pb?c={click_id}&s={sub.sub}' },
      },
    ],
  });
  const mixedReader = new LandingQueryReader(mixed.values());
  const URL = '/l?fcid=a+b%20c%2Bd&pcid=a+b%20c%2Bd&sub=x+y&p%2Bcid=n';

  it('keeps a raw + of its parameters, decoding percent-escapes as usual', () => {
    expect(mixedReader.readsLiteralPlus).toBe(true);
    expect({ ...mixedReader.read(URL, false) }).toEqual({ pcid: 'a+b c+d', sub: 'x+y' });
  });

  it('reads the other trackers’ parameters as forms do, and only those', () => {
    expect({ ...mixedReader.read(URL) }).toEqual({ fcid: 'a b c+d' });
  });

  it('reads nothing apart when no tracker asks for it', () => {
    expect(reader.readsLiteralPlus).toBe(false);
    expect(reader.read('/l?cid=a+b', false)).toBeUndefined();
  });
});
