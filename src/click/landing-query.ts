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
  /**
   * Each wanted name, to itself as the configuration spelled it: the result is keyed with
   * that string, not the one just cut from the URL. A fresh string as a property key must
   * first be looked up in V8's table of internalized strings; on the landing path that store
   * was most of this reader's time (91 of its 107 samples in a bench profile).
   */
  private readonly names: Map<string, string>;

  constructor(trackers: Iterable<ResolvedTracker>) {
    this.names = new Map();
    for (const tracker of trackers) {
      for (const name of tracker.clickParams) this.names.set(name, name);
      for (const name of tracker.subParams) this.names.set(name, name);
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
      const name = this.names.get(decode(url.slice(start, eq)));
      if (name !== undefined) {
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
