import { unescape } from 'node:querystring';

import type { ResolvedTracker } from '../resolve-postback-options.js';

export type LandingQuery = Record<string, string | string[]>;

/**
 * Reads the trackers' click and sub-parameters straight from a landing URL's query string.
 *
 * `req.query` would do, but Express parses the whole query anew on every read, decoding and
 * storing every parameter (a shop's utm_* and the like) for the few this module wants; on the
 * landing path that was the largest part of a capture's cost. The wanted names are known
 * when the module starts, so the others are only skipped here. Values come out as Express's
 * default ("simple") query parser gives them: `+` is a space, percent-escapes are decoded
 * (a malformed one as `querystring` decodes it), and a name given twice is an array. A name
 * is matched literally: `sub[1]` is the parameter named `sub[1]`, whatever query parser the
 * application uses.
 */
export class LandingQueryReader {
  private readonly names: Set<string>;

  constructor(trackers: Iterable<ResolvedTracker>) {
    this.names = new Set();
    for (const tracker of trackers) {
      for (const name of tracker.clickParams) this.names.add(name);
      for (const name of tracker.subParams) this.names.add(name);
    }
  }

  /** The wanted parameters of `url` (a request target); undefined when it has none of them. */
  read(url: string): LandingQuery | undefined {
    const question = url.indexOf('?');
    if (question < 0) return undefined;
    let end = url.indexOf('#', question);
    if (end < 0) end = url.length;
    let query: LandingQuery | undefined;
    for (let start = question + 1; start < end;) {
      let amp = url.indexOf('&', start);
      if (amp < 0 || amp > end) amp = end;
      let eq = url.indexOf('=', start);
      if (eq < 0 || eq > amp) eq = amp;
      const name = decode(url.slice(start, eq));
      if (this.names.has(name)) {
        const value = eq < amp ? decode(url.slice(eq + 1, amp)) : '';
        query ??= Object.create(null) as LandingQuery;
        const earlier = query[name];
        query[name] =
          earlier === undefined
            ? value
            : typeof earlier === 'string'
              ? [earlier, value]
              : [...earlier, value];
      }
      start = amp + 1;
    }
    return query;
  }
}

/** As `querystring.parse` decodes a name or a value. */
function decode(raw: string): string {
  if (raw.includes('+')) raw = raw.replace(/\+/g, ' ');
  return raw.includes('%') ? unescape(raw) : raw;
}
