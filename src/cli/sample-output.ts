import { REDACTED } from '../postback/postback-request.builder.js';
import { samplePostback, SAMPLE_CONVERSION } from '../postback/postback-sample.js';
import { secretRedactor } from '../postback/secret-redactor.js';
import type { ResolvedTracker } from '../options/resolved-options.js';
import type { CommandIo } from './cli-io.js';

/**
 * Prints what `build` shows. With every secret exported, the request exactly as it will be
 * sent. With a secret variable unset, the same request with a stand-in secret, each place
 * it went marked with the variable's name, so it can be read before the secret exists.
 */
export function printSample(
  io: CommandIo,
  tracker: ResolvedTracker,
  preset: string | undefined,
  shopUrl: string | undefined,
  unset: string[],
): void {
  const sample = samplePostback(tracker, preset, shopUrl);
  const mark = marker(tracker, unset);
  const show = (text: string) => (mark ? mark(text) : text);
  io.out(`Landing URL to give the network:\n  ${sample.landingUrl}`);
  const currency = tracker.currency ?? SAMPLE_CONVERSION.currency;
  io.out(
    `\nPostback for a sample purchase (order TEST-ORDER-1, customer TEST-CUSTOMER-1, ${SAMPLE_CONVERSION.amount} ${currency}, click TEST-CLICK-1):`,
  );
  io.out(`  ${sample.request.method} ${show(sample.request.url)}`);
  for (const [name, value] of Object.entries(sample.request.headers)) {
    const signature = mark && name === 'webhook-signature';
    io.out(
      `  ${name}: ${signature ? `v1,<the HMAC signature made with $${unset[0]}>` : show(value)}`,
    );
  }
  if (sample.request.body) io.out(`\n  ${show(sample.request.body)}`);
  if (mark) {
    io.out(
      `\n${unset.join(', ')} ${unset.length === 1 ? 'is' : 'are'} not set: the postback shows where the secret goes. Export it and run again for the exact request to paste into the network's test tool.`,
    );
  } else if (tracker.signing) {
    io.out('\n(The secret is applied as it will be sent: do not share this output.)');
  }
  if (sample.notes.length > 0) {
    io.out('\nSet up on the network side:');
    for (const note of sample.notes) io.out(`  - ${note}`);
  }
  if (sample.unconfirmed.length > 0) {
    io.out('\nNot confirmed by the network documentation read; check with the network:');
    for (const fact of sample.unconfirmed) io.out(`  - ${fact}`);
  }
}

/** Replaces the stand-in secret, in every form it takes on the wire, with the variable's name. */
function marker(tracker: ResolvedTracker, unset: string[]) {
  if (unset.length === 0 || !tracker.signing) return undefined;
  const variable = `$${unset[0]}`;
  const signing = tracker.signing;
  const text =
    signing.type === 'basic' ? `<base64 of "${signing.username}:${variable}">` : `<${variable}>`;
  const { redact } = secretRedactor(tracker);
  return (value: string) => redact(value).split(REDACTED).join(text);
}
