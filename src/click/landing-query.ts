import { unescape } from 'node:querystring';

import type { ResolvedTracker } from '../options/resolved-options.js';

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
 * application uses. The parameters of trackers with `landingPlusAsSpace: false` are read
 * apart, with `+` kept (`read(url, false)`), so two trackers may read one name each their way.
 */
export class LandingQueryReader {
  /**
   * Each wanted name, to itself as the configuration spelled it: the result is keyed with
   * that string, not the one just cut from the URL. A fresh string as a property key must
   * first be looked up in V8's table of internalized strings; on the landing path that store
   * was most of this reader's time (91 of its 107 samples in a bench profile).
   */
  private readonly names = new Map<string, string>();
  /** The same, of the trackers that keep a raw `+` (`landingPlusAsSpace: false`). */
  private readonly literalPlusNames = new Map<string, string>();

  constructor(trackers: Iterable<ResolvedTracker>) {
    for (const tracker of trackers) {
      const names = tracker.landingPlusAsSpace ? this.names : this.literalPlusNames;
      for (const name of tracker.clickParams) names.set(name, name);
      for (const name of tracker.subParams) names.set(name, name);
    }
  }

  /** True when some tracker reads its parameters with `+` kept. */
  get readsLiteralPlus(): boolean {
    return this.literalPlusNames.size > 0;
  }

  /**
   * The wanted parameters of `url` (a request target); undefined when it has none of them.
   * With `plusAsSpace` false, those of the trackers that keep `+`, decoded so.
   */
  read(url: string, plusAsSpace = true): LandingQuery | undefined {
    const names = plusAsSpace ? this.names : this.literalPlusNames;
    if (names.size === 0) return undefined;
    const decode = plusAsSpace ? decodeForm : decodePercent;
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
      const name = names.get(decode(url.slice(start, eq)));
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
function decodeForm(raw: string): string {
  if (raw.includes('+')) raw = raw.replace(/\+/g, ' ');
  return decodePercent(raw);
}

/** Percent-escapes only (RFC 3986): a `+` stays a `+`. */
function decodePercent(raw: string): string {
  return raw.includes('%') ? unescape(raw) : raw;
}
