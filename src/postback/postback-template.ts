/**
 * `{macro}` templates for postback URLs and bodies, compiled once at start-up into origin,
 * path and query pairs, so each value is encoded for the place it lands in (a click ID holding
 * `&` or `#` can never add a parameter or cut the URL short). Literal text is made valid
 * RFC 3986 at compile time (`encodeLiteral`): what is rendered is what the client sends.
 */

export type TemplatePart = { literal: string } | { macro: string };

export interface QueryPairTemplate {
  key: string;
  value: TemplatePart[];
}

export interface UrlTemplate {
  /** `https://host:port`, macro-free. */
  origin: string;
  path: TemplatePart[];
  query: QueryPairTemplate[];
}

/** Looks a macro up; undefined means "no value", which leaves out a pair made of that macro alone. */
export type MacroValues = (name: string) => string | undefined;

const MACRO_NAME = /^[a-z_][a-z0-9_]*(\.[A-Za-z0-9_-]+)?$/;

export class TemplateSyntaxError extends Error {}

/** Splits text into literals and `{macro}` references; a stray brace is a syntax error. */
export function parseParts(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let rest = text;
  while (rest.length > 0) {
    const open = rest.indexOf('{');
    const close = rest.indexOf('}');
    if (open === -1) {
      if (close !== -1) throw new TemplateSyntaxError(`stray "}" in "${text}"`);
      parts.push({ literal: rest });
      break;
    }
    if (close !== -1 && close < open) {
      throw new TemplateSyntaxError(`stray "}" in "${text}"`);
    }
    if (open > 0) parts.push({ literal: rest.slice(0, open) });
    const end = rest.indexOf('}', open);
    if (end === -1) throw new TemplateSyntaxError(`unclosed "{" in "${text}"`);
    const name = rest.slice(open + 1, end);
    if (!MACRO_NAME.test(name)) {
      throw new TemplateSyntaxError(`"{${name}}" is not a valid macro name in "${text}"`);
    }
    parts.push({ macro: name });
    rest = rest.slice(end + 1);
  }
  return parts;
}

export function parseUrlTemplate(url: string): UrlTemplate {
  // A control character (a pasted newline, a tab) or whitespace at either end is a mistake,
  // never text to send: encoded, it would silently become part of a value.
  if (/[\u0000-\u001f\u007f]/.test(url) || url.trim() !== url) {
    throw new TemplateSyntaxError(
      `"${url}" must not hold control characters or start or end with whitespace`,
    );
  }
  // A space or an invisible character inside (a no-break or zero-width space, U+2028) is a
  // paste mistake as often as not: encoded, `cid={click_id} ` would send `cid=C1%20`.
  const blank = /[\p{White_Space}\p{Cf}]/u.exec(url);
  if (blank) {
    const code = blank[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    throw new TemplateSyntaxError(
      `"${url}" holds ${blank[0] === ' ' ? 'a space' : `an invisible character (U+${code})`} at position ${blank.index}: write a space that belongs in the URL as %20, and delete anything else`,
    );
  }
  const match = /^(https?:\/\/[^/?#{}\s]+)((?:[/?][^#]*)?)$/i.exec(url);
  if (!match) {
    throw new TemplateSyntaxError(
      `"${url}" must be an absolute http(s) URL with no macro in the host and no fragment`,
    );
  }
  const [, written, rest] = match;
  // Reject hosts that do not parse (bad ports, empty host) now rather than at send time.
  const parsed = new URL(written);
  // Credentials in the URL would be stored in the attempt log (and HMAC signing rebuilds the
  // URL without them): a secret belongs in the environment, sent by signing: basic.
  if (written.includes('@')) {
    throw new TemplateSyntaxError(
      `"${url}" carries credentials (user:password@host): use signing: { type: 'basic', username, secret } with the secret from the environment`,
    );
  }
  // A non-ASCII host goes out as its punycode (what an HTTP client sends); an ASCII one stays
  // as written (an explicit port included).
  const origin = /[^\x00-\x7f]/.test(written) ? parsed.href.replace(/\/$/, '') : written;
  const queryStart = rest.indexOf('?');
  const pathText = queryStart === -1 ? rest : rest.slice(0, queryStart);
  const queryText = queryStart === -1 ? '' : rest.slice(queryStart + 1);
  const query = queryText
    .split('&')
    .filter((pair) => pair.length > 0)
    .map((pair) => {
      const eq = pair.indexOf('=');
      const key = eq === -1 ? pair : pair.slice(0, eq);
      if (key.includes('{') || key.includes('}')) {
        throw new TemplateSyntaxError(`a query parameter name cannot be a macro ("${pair}")`);
      }
      return {
        key: encodeLiteral(key, QUERY_KEEP),
        value: encodeLiterals(parseParts(eq === -1 ? '' : pair.slice(eq + 1)), QUERY_KEEP),
      };
    });
  return { origin, path: encodeLiterals(parseParts(pathText), PATH_KEEP), query };
}

/**
 * What a literal keeps as written, by URL component (RFC 3986 §3.3 pchar and "/"; §3.4 adds
 * "?"). Everything else is percent-encoded as UTF-8. In the query `'` is encoded too: WHATWG
 * URL (and so axios) encodes it there, and the request must be what was rendered and signed.
 */
const PATH_KEEP = /[A-Za-z0-9\-._~!$&'()*+,;=:@/]/;
const QUERY_KEEP = /[A-Za-z0-9\-._~!$&()*+,;=:@/?]/;

/**
 * A template's literal text as valid RFC 3986 for its component: `|`, `^`, non-ASCII
 * and the like percent-encoded, as macro values are; a valid `%XX` escape kept as written (the
 * merchant encoded it already), and a `%` not starting one encoded as `%25`. The component's
 * delimiters (`/`, `?`, `&`, `=`) are kept: they are the URL's structure.
 */
export function encodeLiteral(text: string, keep: RegExp): string {
  let encoded = '';
  for (let i = 0; i < text.length;) {
    const char = String.fromCodePoint(text.codePointAt(i)!);
    if (char === '%' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      encoded += text.slice(i, i + 3);
      i += 3;
      continue;
    }
    if (keep.test(char)) {
      encoded += char;
    } else {
      try {
        encoded += encodeURIComponent(char).replace(
          /[!'()*]/g,
          (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
        );
      } catch {
        throw new TemplateSyntaxError(`"${text}" holds a lone UTF-16 surrogate`);
      }
    }
    i += char.length;
  }
  return encoded;
}

function encodeLiterals(parts: TemplatePart[], keep: RegExp): TemplatePart[] {
  return parts.map((part) =>
    'literal' in part ? { literal: encodeLiteral(part.literal, keep) } : part,
  );
}

export function macrosOf(parts: TemplatePart[]): string[] {
  return parts.flatMap((part) => ('macro' in part ? [part.macro] : []));
}

export function urlTemplateMacros(template: UrlTemplate): string[] {
  return [...macrosOf(template.path), ...template.query.flatMap((pair) => macrosOf(pair.value))];
}

/** RFC 3986 unreserved characters stay, everything else is percent-encoded (UTF-8). */
export function encodeValue(value: string): string {
  const encoded = encodeURIComponent(value);
  // Most values have none of the five: no replace pass, no callback (it runs per value sent).
  return /[!'()*]/.test(encoded)
    ? encoded.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    : encoded;
}

/** True when a pair made only of this value template must be left out for lack of a value. */
function isAbsent(parts: TemplatePart[], values: MacroValues): boolean {
  return parts.length === 1 && 'macro' in parts[0] && values(parts[0].macro) === undefined;
}

function renderParts(
  parts: TemplatePart[],
  values: MacroValues,
  encode: (value: string) => string,
): string {
  return parts
    .map((part) => ('literal' in part ? part.literal : encode(values(part.macro) ?? '')))
    .join('');
}

/** Renders the query pairs that have a value, each value encoded; keys stay as written. */
export function renderQueryPairs(template: UrlTemplate, values: MacroValues): string[] {
  return template.query
    .filter((pair) => !isAbsent(pair.value, values))
    .map((pair) => `${pair.key}=${renderParts(pair.value, values, encodeValue)}`);
}

/**
 * Encodes a value placed in the path. `.` and `..` are refused: every URL parser resolves them
 * (even percent-encoded) as dot segments, so `/pb/{click_id}/done` with `..` would become `/done`.
 */
function encodePathValue(value: string): string {
  if (value === '.' || value === '..') {
    throw new Error(`"${value}" cannot be placed in a URL path`);
  }
  return encodeValue(value);
}

export function renderUrl(
  template: UrlTemplate,
  values: MacroValues,
  extraPairs: string[] = [],
): string {
  const path = renderParts(template.path, values, encodePathValue);
  const pairs = [...renderQueryPairs(template, values), ...extraPairs];
  return `${template.origin}${path}${pairs.length ? `?${pairs.join('&')}` : ''}`;
}

/** Renders body fields to plain (unencoded) values; the body encoder does the encoding. */
export function renderFields(
  fields: Record<string, TemplatePart[]>,
  values: MacroValues,
): Record<string, string> {
  const rendered: Record<string, string> = {};
  for (const [name, parts] of Object.entries(fields)) {
    if (isAbsent(parts, values)) continue;
    rendered[name] = renderParts(parts, values, (v) => v);
  }
  return rendered;
}
