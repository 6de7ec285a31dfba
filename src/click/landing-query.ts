import { unescape } from 'node:querystring';

import type { ResolvedTracker } from '../options/resolved-options.js';

export type LandingQuery = Record<string, string | string[]>;

/**
 * Reads only the trackers' click and sub-parameters from a landing URL's query string, not
 * `req.query`, which Express parses whole on every read (docs/internals/performance-notes.md).
 * Values as Express's "simple" parser gives them (`+` a space, escapes decoded, a repeated
 * name an array); names matched literally (`sub[1]`). Trackers with `landingPlusAsSpace: false`
 * are read apart, `+` kept (`read(url, false)`).
 */
export class LandingQueryReader {
  /**
   * Each wanted name, to itself as the configuration spelled it: the result is keyed with
   * that string, not a fresh one cut from the URL, which V8 would look up in its string table.
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
