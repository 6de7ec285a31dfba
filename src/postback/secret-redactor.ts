import type { ResolvedTracker } from '../options/resolved-options.js';
import { basicCredentials, REDACTED } from './postback-request.builder.js';
import { LONGEST_CHARACTER_FORM, secretPattern } from './secret-pattern.js';

/**
 * Removes a tracker's secrets from text that is about to be stored or logged: a tracker may
 * echo the request back, or redirect to a URL that keeps the query with its token. Every form
 * a secret can take on the wire is replaced (see `secretPattern`).
 */
export interface SecretRedactor {
  /** The text with every secret, in any form, replaced by `[redacted]`. */
  redact(text: string): string;
  /**
   * The first `length` characters of a response body with its secrets replaced (null without
   * a body). Redaction comes first: a secret that straddles the cut is replaced whole, never
   * kept in part. When the body itself was cut short unread, its last characters could be the
   * start of a secret whose rest never arrived, so the excerpt stops before them.
   */
  excerpt(response: ReadBody | undefined, length: number): string | null;
}

/** A response body as read: its start, and whether more followed unread. */
export interface ReadBody {
  body?: string;
  bodyCutShort?: boolean;
}

export function secretRedactor(tracker: ResolvedTracker | undefined): SecretRedactor {
  if (!tracker) return keepAll;
  // Made once per tracker: the flusher asks for it on every delivery.
  let redactor = redactors.get(tracker);
  if (!redactor) {
    redactor = withoutSecrets(secretsOf(tracker));
    redactors.set(tracker, redactor);
  }
  return redactor;
}

/** Every secret of the tracker's signing, and for basic authentication the header's credentials. */
function secretsOf(tracker: ResolvedTracker): string[] {
  const signing = tracker.signing;
  if (!signing) return [];
  const secrets = [signing.secret].flat();
  if (signing.type === 'basic') secrets.push(basicCredentials(signing));
  return secrets;
}

const redactors = new WeakMap<ResolvedTracker, SecretRedactor>();
const keepAll: SecretRedactor = {
  redact: (text) => text,
  excerpt: (response, length) => response?.body?.slice(0, length) ?? null,
};

function withoutSecrets(secrets: string[]): SecretRedactor {
  const pattern = secretPattern(secrets);
  if (!pattern) return keepAll;
  // No match starting inside an excerpt can end further than this past its end.
  const reach = Math.max(...secrets.map((secret) => secret.length)) * LONGEST_CHARACTER_FORM;
  return {
    redact: (text) => text.replace(pattern, REDACTED),
    excerpt(response, length) {
      const body = response?.body;
      if (body === undefined) return null;
      const end = Math.min(
        length,
        response?.bodyCutShort ? Math.max(0, body.length - reach) : body.length,
      );
      const window = body.slice(0, end + reach);
      let result = '';
      let at = 0;
      pattern.lastIndex = 0;
      for (let match = pattern.exec(window); match && match.index < end;) {
        result += window.slice(at, match.index) + REDACTED;
        at = match.index + match[0].length;
        match = pattern.exec(window);
      }
      pattern.lastIndex = 0;
      return at < end ? result + window.slice(at, end) : result;
    },
  };
}
