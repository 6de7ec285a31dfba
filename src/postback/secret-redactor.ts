import type { ResolvedTracker } from '../resolve-postback-options.js';
import { basicCredentials, REDACTED } from './postback-request.builder.js';
import { encodeValue } from './postback-template.js';

/**
 * Removes a tracker's secrets from text that is about to be stored or logged: a tracker may
 * echo the request back, or redirect to a URL that keeps the query with its token. Every form
 * a secret can take on the wire is replaced: raw, percent-encoded, form-encoded.
 */
export function secretRedactor(tracker: ResolvedTracker | undefined): (text: string) => string {
  if (!tracker) return keepAll;
  // Made once per tracker: the flusher asks for it on every delivery.
  let redact = redactors.get(tracker);
  if (!redact) {
    redact = withoutSecrets(secretsOf(tracker));
    redactors.set(tracker, redact);
  }
  return redact;
}

/** Every secret of the tracker's signing, and for basic authentication the header's credentials. */
function secretsOf(tracker: ResolvedTracker): string[] {
  const signing = tracker.signing;
  if (!signing) return [];
  const secrets = [signing.secret].flat();
  if (signing.type === 'basic') secrets.push(basicCredentials(signing));
  return secrets;
}

const redactors = new WeakMap<ResolvedTracker, (text: string) => string>();
const keepAll = (text: string) => text;

function withoutSecrets(secrets: string[]): (text: string) => string {
  const forms = [
    ...new Set(
      secrets.flatMap((secret) => [
        secret,
        encodeValue(secret),
        encodeURIComponent(secret),
        new URLSearchParams({ s: secret }).toString().slice(2),
      ]),
    ),
  ]
    // Longest first, so an encoded form is not left half-replaced by a shorter one.
    .filter((form) => form.length > 0)
    .sort((a, b) => b.length - a.length);
  return (text) => forms.reduce((result, form) => result.split(form).join(REDACTED), text);
}
