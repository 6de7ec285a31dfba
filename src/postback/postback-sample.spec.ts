import { BUILT_IN_MACROS } from '../options/macros.js';
import type { TrackerOptions } from '../interfaces/index.js';
import { resolvePostbackOptions } from '../options/resolve-options.js';
import { samplePostback } from './postback-sample.js';
import { POSTBACK_PRESETS } from './presets/index.js';
import type { PostbackPreset } from './presets/postback-preset.interface.js';

/** A tracker on the preset as a merchant would configure it: every value and credential given. */
function trackerOn(preset: PostbackPreset): TrackerOptions {
  const values = Object.fromEntries(
    Object.keys(preset.placeholders).map((name) => [name, `${name.replace(/_/g, '-')}.example`]),
  );
  const signing = preset.auth
    ? preset.auth.type === 'basic'
      ? { type: 'basic' as const, username: 'user', secret: 's3cret' }
      : { type: 'bearer' as const, secret: 's3cret' }
    : preset.token
      ? { type: 'token' as const, secret: 's3cret' }
      : undefined;
  return {
    name: 'net',
    preset: preset.name,
    values,
    ...(signing && { signing }),
    // A network that reads amounts in a currency of its own needs it named (see amountsIn).
    ...(preset.amountsIn && { currency: 'EUR' }),
    commission: { purchase: { percent: '10' } },
  };
}

/** Fields of the conversion itself: a request that leaves one out lacks what the shop knows. */
const FIELD_MACROS = new Set<string>(BUILT_IN_MACROS);

describe('samplePostback', () => {
  describe.each([...POSTBACK_PRESETS.values()].map((preset) => [preset.name, preset] as const))(
    '%s',
    (_name, preset) => {
      const tracker = resolvePostbackOptions({ trackers: [trackerOn(preset)] }).trackers.get(
        'net',
      )!;
      const { request } = samplePostback(tracker, preset.name, 'https://shop.example/', 0);

      it('fills every field of the conversion the template sends', () => {
        const query = new URL(request.url).searchParams;
        const missingQuery = tracker.url.query
          .filter((pair) =>
            pair.value.some((part) => 'macro' in part && FIELD_MACROS.has(part.macro)),
          )
          .map((pair) => pair.key)
          .filter((key) => !query.get(key));
        expect(missingQuery).toEqual([]);

        const body: Record<string, unknown> =
          request.body === undefined
            ? {}
            : tracker.format === 'json'
              ? JSON.parse(request.body)
              : Object.fromEntries(new URLSearchParams(request.body));
        const missingBody = Object.entries(tracker.body)
          .filter(([, parts]) =>
            parts.some((part) => 'macro' in part && FIELD_MACROS.has(part.macro)),
          )
          .map(([key]) => key)
          .filter((key) => body[key] === undefined || body[key] === '');
        expect(missingBody).toEqual([]);
      });

      it('has no path segment left empty', () => {
        expect(new URL(request.url).pathname).not.toMatch(/\/\/|.\/$/);
      });
    },
  );

  it("gives Dub's sale the customer Dub requires", () => {
    const tracker = resolvePostbackOptions({
      trackers: [trackerOn(POSTBACK_PRESETS.get('dub')!)],
    }).trackers.get('net')!;
    const { request } = samplePostback(tracker, 'dub');
    expect(request.url).toBe('https://api.dub.co/track/sale');
    expect(JSON.parse(request.body!)).toMatchObject({
      customerExternalId: 'TEST-CUSTOMER-1',
      invoiceId: 'TEST-ORDER-1',
    });
  });
});
