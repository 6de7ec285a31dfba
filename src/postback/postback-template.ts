/**
 * `{macro}` templates for postback URLs and bodies, compiled once at start-up.
 *
 * Compiling splits the URL into origin, path and query pairs, so that rendering can encode
 * every value for exactly the place it lands in: a click ID holding `&`, `=`, `#` or spaces is
 * percent-encoded into one query value and can never add a parameter or cut the URL short.
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
  const match = /^(https?:\/\/[^/?#{}\s]+)([^#\s]*)$/i.exec(url);
  if (!match) {
    throw new TemplateSyntaxError(
      `"${url}" must be an absolute http(s) URL with no macro in the host, no fragment and no spaces`,
    );
  }
  const [, origin, rest] = match;
  // Reject hosts that do not parse (bad ports, empty host) now rather than at send time.
  new URL(origin);
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
      return { key, value: parseParts(eq === -1 ? '' : pair.slice(eq + 1)) };
    });
  return { origin, path: parseParts(pathText), query };
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
