import type { TrackerOptions } from '../../interfaces/index.js';
import type { PostbackFields } from '../postback-fields.js';
import { PostbackConfigurationError } from '../../errors/postback-configuration.error.js';
import { resolvePostbackOptions } from '../../options/resolve-options.js';
import { buildPostbackRequest } from '../postback-request.builder.js';
import { samplePostback } from '../postback-sample.js';

const SENT_AT = Date.UTC(2026, 10, 25, 10, 5);

/** A sale as the outbox freezes it: the amount normalised to its ISO 4217 minor unit. */
function sale(amount: string, currency: string, extra: Partial<PostbackFields> = {}) {
  return {
    clickId: 'CLICK-1',
    eventType: 'purchase',
    conversionId: 'conv-1',
    occurredAt: Date.UTC(2026, 10, 25, 10, 0),
    orderId: 'ORDER-1',
    customerId: 'cust-7',
    amount,
    currency,
    ...extra,
  } satisfies PostbackFields;
}

function trackerOf(options: Omit<TrackerOptions, 'name'>) {
  return resolvePostbackOptions({ trackers: [{ name: 'net', ...options }] }).trackers.get('net')!;
}

const dub = (extra: Partial<TrackerOptions> = {}) =>
  trackerOf({ preset: 'dub', signing: { type: 'bearer', secret: 'dub_key_123' }, ...extra });

describe("amounts in the receiver's minor units", () => {
  // Dub reads hundredths of every currency except its zero-decimal list, whatever ISO 4217
  // (or the host's ICU, which says 0 for HUF, IDR, COP, PKR, IQD) gives the currency.
  it.each([
    // ISO 2, Dub 2
    ['EUR', '59.97', 5997],
    ['USD', '0.10', 10],
    ['HUF', '1990.50', 199050],
    ['IDR', '150000.00', 15000000],
    ['COP', '50000.00', 5000000],
    ['PKR', '2500.00', 250000],
    // ISO 0, Dub 0
    ['JPY', '1437', 1437],
    ['KRW', '5000', 5000],
    // ISO 3, Dub 2
    ['BHD', '1.250', 125],
    ['KWD', '12.340', 1234],
    ['JOD', '10.000', 1000],
    ['OMR', '10.000', 1000],
    ['TND', '10.000', 1000],
    ['LYD', '10.000', 1000],
    ['IQD', '1000.000', 100000],
    // ISO 0, Dub 2 (not on Dub's zero-decimal list)
    ['ISK', '1000', 100000],
    // ISO 2, Dub 0 (on Dub's list)
    ['MGA', '5000.00', 5000],
    // ISO 4, Dub 2
    ['CLF', '1.2300', 123],
  ])('the Dub preset sends a sale of %s %s as amount %d', (currency, amount, expected) => {
    const request = buildPostbackRequest(dub(), sale(amount, currency), 'event-1', SENT_AT);
    expect(request.url).toBe('https://api.dub.co/track/sale');
    expect(JSON.parse(request.body!)).toMatchObject({ amount: expected, currency });
  });

  it.each([
    ['BHD', '1.005', 101],
    ['BHD', '1.004', 100],
    ['MGA', '100.50', 101],
    ['CLF', '1.2345', 123],
  ])(
    "rounds half up where Dub's unit is larger than ISO's: %s %s is amount %d",
    (currency, amount, expected) => {
      const request = buildPostbackRequest(dub(), sale(amount, currency), 'event-1', SENT_AT);
      expect(request.body).toContain(`"amount":${expected},`);
    },
  );

  it.each([
    ['BHD', '1.005', '1005'],
    ['ISK', '1000', '1000'],
    ['HUF', '1990.50', '199050'],
    ['IQD', '1000.500', '1000500'],
    ['MGA', '100.50', '10050'],
    ['CLF', '1.2345', '12345'],
  ])('a tracker on ISO 4217 minor units gets %s %s as %s', (currency, amount, expected) => {
    // The tracker's own rule wins over the preset's.
    const onIso = dub({ minorUnits: 'iso4217' });
    const custom = trackerOf({
      clickParams: ['cid'],
      postback: { url: 'https://trk.example/pb?cid={click_id}&a={amount_minor}' },
    });
    expect(custom.minorUnits).toBe('iso4217');
    expect(
      new URL(buildPostbackRequest(custom, sale(amount, currency), 'e', SENT_AT).url).search,
    ).toBe(`?cid=CLICK-1&a=${expected}`);
    const body = buildPostbackRequest(onIso, sale(amount, currency), 'e', SENT_AT).body!;
    expect(JSON.parse(body).amount).toBe(Number(expected));
  });

  it("counts {payout_minor} by the tracker's rule too", () => {
    const tracker = trackerOf({
      clickParams: ['cid'],
      minorUnits: 'dub',
      postback: { url: 'https://trk.example/pb?p={payout_minor}' },
    });
    const fields = sale('10.000', 'BHD', { payout: '0.125', payoutCurrency: 'BHD' });
    expect(buildPostbackRequest(tracker, fields, 'e', SENT_AT).url).toBe(
      'https://trk.example/pb?p=13',
    );
  });

  it('refuses a minor-unit rule it does not know', () => {
    expect(() =>
      resolvePostbackOptions({
        trackers: [
          {
            name: 'net',
            preset: 'dub',
            signing: { type: 'bearer', secret: 'k' },
            minorUnits: 'cents' as never,
          },
        ],
      }),
    ).toThrow(/minorUnits/);
  });
});

describe('a receiver that reads every amount in one currency (Everflow)', () => {
  const everflow = (extra: Partial<TrackerOptions> = {}) =>
    trackerOf({
      preset: 'everflow',
      values: { tracking_domain: 'trk.example.com', nid: '42' },
      ...extra,
    });

  it("refuses to start until the tracker names the offer's currency", () => {
    expect(() => everflow()).toThrow(PostbackConfigurationError);
    expect(() => everflow()).toThrow(/no currency parameter.*offer's currency.*currency: 'USD'/s);
  });

  it('needs no currency when your own URL sends one', () => {
    const own = (url: string) =>
      trackerOf({
        preset: 'everflow',
        values: { nid: '42' },
        postback: { url: `${url}&nid={nid}` },
      });
    const request = buildPostbackRequest(
      own('https://trk.example.com/?transaction_id={click_id}&amount={amount}&cur={currency}'),
      sale('1437', 'JPY'),
      'e',
      SENT_AT,
    );
    expect(request.url).toContain('&amount=1437&cur=JPY');
    // Your own URL without a currency still reads amounts in the offer's.
    expect(() => own('https://trk.example.com/?transaction_id={click_id}&amount={amount}')).toThrow(
      /no currency parameter/,
    );
  });

  it.each(['usd', 'XAU', 'HRK', 'EURO'])('refuses currency %p', (currency) => {
    expect(() => everflow({ currency })).toThrow(/currency.*ISO 4217/);
  });

  it('reports an order in that currency', () => {
    const request = buildPostbackRequest(
      everflow({ currency: 'USD' }),
      sale('59.97', 'USD'),
      'e',
      SENT_AT,
    );
    expect(request.url).toBe(
      'https://trk.example.com/?nid=42&transaction_id=CLICK-1&amount=59.97&order_id=ORDER-1',
    );
  });

  it('refuses to report an order in another currency as a number in its own', () => {
    expect(() =>
      buildPostbackRequest(everflow({ currency: 'USD' }), sale('1437', 'JPY'), 'e', SENT_AT),
    ).toThrow(
      'the amount is 1437 JPY, and tracker "net" reads every amount in USD (currency: \'USD\')',
    );
  });

  it('checks only the amounts the template sends', () => {
    const tracker = trackerOf({
      clickParams: ['cid'],
      currency: 'EUR',
      postback: { url: 'https://trk.example/pb?cid={click_id}&amount={amount}' },
    });
    // A payout in another currency is not sent, so nothing is wrong; a registration has no amount.
    const fields = sale('20.00', 'EUR', { payout: '2.00', payoutCurrency: 'USD' });
    expect(buildPostbackRequest(tracker, fields, 'e', SENT_AT).url).toContain('amount=20.00');
    const registration = { ...sale('0', 'EUR'), eventType: 'registration', amount: undefined };
    expect(buildPostbackRequest(tracker, registration, 'e', SENT_AT).url).toBe(
      'https://trk.example/pb?cid=CLICK-1',
    );
    const withPayout = trackerOf({
      clickParams: ['cid'],
      currency: 'EUR',
      postback: { url: 'https://trk.example/pb?cid={click_id}&p={payout_minor}' },
    });
    expect(() => buildPostbackRequest(withPayout, fields, 'e', SENT_AT)).toThrow(
      /the payout is 2.00 USD/,
    );
  });

  it("shows its sample in the tracker's currency", () => {
    const sample = samplePostback(everflow({ currency: 'USD' }), 'everflow');
    expect(sample.request.url).toContain('&amount=59.97&');
  });
});
