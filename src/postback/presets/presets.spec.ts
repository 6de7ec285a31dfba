import type { PostbackFields } from '../postback-fields.js';
import { PostbackConfigurationError } from '../../errors/postback-configuration.error.js';
import { resolvePostbackOptions } from '../../options/resolve-options.js';
import { buildPostbackRequest } from '../postback-request.builder.js';
import { POSTBACK_PRESETS, PRESET_NAMES, type PresetName } from './index.js';
import { NETWORK_PRESETS } from './network.presets.js';
import { TRACKER_PRESETS } from './tracker.presets.js';
import type { TrackerOptions } from '../../interfaces/index.js';

const CLICK = 'a&b=c d/é'; // must come back as one value, exactly
const ENCODED_CLICK = 'a%26b%3Dc%20d%2F%C3%A9';
const TOKEN = 'tok3n';

/** One purchase of 59.97 EUR earning 4.50 EUR, frozen as the outbox keeps it. */
const FIELDS: PostbackFields = {
  clickId: CLICK,
  eventType: 'purchase',
  conversionId: 'conv-1',
  occurredAt: Date.UTC(2026, 10, 25, 10, 0, 0),
  orderId: 'ORDER-1',
  amount: '59.97',
  currency: 'EUR',
  payout: '4.50',
  // Another currency than the sale's, so a template mixing {currency} and {payout_currency} shows.
  payoutCurrency: 'USD',
};

/** The postback a preset renders, with the values a merchant would fill in. */
function render(preset: PresetName, values: Record<string, string>, withToken = false) {
  const options = resolvePostbackOptions({
    trackers: [
      {
        name: 'net',
        preset,
        values,
        ...(withToken && { signing: { type: 'token' as const, secret: TOKEN } }),
        // Everflow reads amounts in the offer's currency, which the tracker must name.
        ...(preset === 'everflow' && { currency: FIELDS.currency }),
      },
    ],
  });
  return buildPostbackRequest(
    options.trackers.get('net')!,
    FIELDS,
    'event-1',
    Date.UTC(2026, 10, 25, 10, 5),
  );
}

const DOMAIN = { tracking_domain: 'trk.example.com' };
const GOLDEN: [PresetName, Record<string, string>, boolean, string][] = [
  [
    'voluum',
    DOMAIN,
    false,
    `https://trk.example.com/postback?cid=${ENCODED_CLICK}&payout=4.50&txid=ORDER-1&currency=USD&et=purchase`,
  ],
  [
    'redtrack',
    DOMAIN,
    false,
    `https://trk.example.com/postback?clickid=${ENCODED_CLICK}&sum=4.50&type=purchase&rdtk_event_id=ORDER-1`,
  ],
  [
    'keitaro',
    DOMAIN,
    true,
    `https://trk.example.com/tok3n/postback?subid=${ENCODED_CLICK}&tid=ORDER-1&payout=4.50&currency=USD&status=sale`,
  ],
  [
    'binom',
    DOMAIN,
    false,
    `https://trk.example.com/click.php?cnv_id=${ENCODED_CLICK}&payout=4.50&cnv_status=sale&cnv_currency=USD`,
  ],
  [
    'bemob',
    DOMAIN,
    false,
    `https://trk.example.com/postback?cid=${ENCODED_CLICK}&payout=4.50&txid=ORDER-1&status=approved`,
  ],
  [
    'generic',
    DOMAIN,
    false,
    `https://trk.example.com/postback?click=${ENCODED_CLICK}&payout=4.50&txid=ORDER-1`,
  ],
  [
    'everflow',
    { ...DOMAIN, nid: '42' },
    true,
    `https://trk.example.com/?nid=42&transaction_id=${ENCODED_CLICK}&amount=59.97&order_id=ORDER-1&verification_token=tok3n`,
  ],
  [
    'tune',
    { network_id: 'acme', offer_id: '7' },
    true,
    `https://acme.go2cloud.org/aff_lsr?offer_id=7&transaction_id=${ENCODED_CLICK}&amount=59.97&adv_sub=ORDER-1&security_token=tok3n`,
  ],
  [
    'cake',
    { ...DOMAIN, offer_id: '7' },
    false,
    `https://trk.example.com/p.ashx?o=7&e=1&f=pb&r=${ENCODED_CLICK}&t=ORDER-1&p=59.97`,
  ],
  [
    'affise',
    DOMAIN,
    true,
    `https://trk.example.com/postback?clickid=${ENCODED_CLICK}&action_id=ORDER-1&goal=1&sum=4.50&status=1&secure=tok3n`,
  ],
  [
    'trackier',
    DOMAIN,
    true,
    `https://trk.example.com/acquisition?click_id=${ENCODED_CLICK}&txn_id=ORDER-1&revenue=4.50&currency=USD&status=approved&security_token=tok3n`,
  ],
  [
    'scaleo',
    { workspace: 'acme' },
    true,
    `https://acme.scaletrk.com/track/conv?click_id=${ENCODED_CLICK}&goal_id=1&conv_status=approved&adv_order_id=ORDER-1&token=tok3n`,
  ],
  [
    'offer18',
    { ...DOMAIN, mid: '9' },
    true,
    `https://trk.example.com/p?mid=9&tid=${ENCODED_CLICK}&event=sale&adv_sub1=ORDER-1&sale=59.97&auth_token=tok3n`,
  ],
  [
    'awin',
    { merchant_id: '1001' },
    false,
    `https://www.awin1.com/sread.php?tt=ss&tv=2&merchant=1001&amount=59.97&ch=aw&parts=DEFAULT:59.97&cr=EUR&ref=ORDER-1&testmode=0&cks=${ENCODED_CLICK}`,
  ],
  [
    'post-affiliate-pro',
    { pap_domain: 'pap.example.com' },
    false,
    `https://pap.example.com/scripts/track.php?visitorId=${ENCODED_CLICK}&accountId=default1&tracking=1&sale=${encodeURIComponent(
      '[{"t":"59.97","o":"ORDER-1","cr":"EUR","s":"A","cc":"4.50"}]',
    )}`,
  ],
  [
    'cj',
    { enterprise_id: '1234', action_tracker_id: '5678' },
    false,
    `https://www.emjcd.com/u?CID=1234&TYPE=5678&METHOD=S2S&CJEVENT=${ENCODED_CLICK}&eventTime=2026-11-25T10%3A00%3A00.000Z&OID=ORDER-1&CURRENCY=EUR&ITEM1=order&AMT1=59.97&QTY1=1`,
  ],
];

describe('presets', () => {
  it('holds one preset for each name of PresetName, the type of `preset`', () => {
    const names = [...TRACKER_PRESETS, ...NETWORK_PRESETS].map((preset) => preset.name);
    expect(names).toEqual([...PRESET_NAMES]);
    expect([...POSTBACK_PRESETS.keys()]).toEqual([...PRESET_NAMES]);
  });

  it('has a golden URL for every preset', () => {
    // Impact and Dub take a POST to their APIs: their golden requests are the tests below.
    expect([...GOLDEN.map(([name]) => name), 'impact', 'dub'].sort()).toEqual(
      [...POSTBACK_PRESETS.keys()].sort(),
    );
  });

  it("impact submits the conversion to Impact's API with the account's basic authentication", () => {
    const options = resolvePostbackOptions({
      trackers: [
        {
          name: 'net',
          preset: 'impact',
          values: { account_sid: 'IRabc123', campaign_id: '1000', action_tracker_id: '2000' },
          signing: { type: 'basic', username: 'IRabc123', secret: 'auth-t0ken' },
        },
      ],
    });
    const tracker = options.trackers.get('net')!;
    expect(tracker.clickParams).toEqual(['irclickid']);
    const request = buildPostbackRequest(tracker, FIELDS, 'event-1', Date.UTC(2026, 10, 25, 10, 5));
    expect(request.method).toBe('POST');
    expect(request.url).toBe('https://api.impact.com/Advertisers/IRabc123/Conversions');
    expect(request.headers).toMatchObject({
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from('IRabc123:auth-t0ken').toString('base64')}`,
    });
    expect(Object.fromEntries(new URLSearchParams(request.body))).toEqual({
      CampaignId: '1000',
      ActionTrackerId: '2000',
      ClickId: CLICK, // one value, byte for byte
      EventDate: '2026-11-25T10:00:00.000Z',
      OrderId: 'ORDER-1',
      CurrencyCode: 'EUR',
      ItemSku1: 'order',
      ItemQuantity1: '1',
      ItemSubTotal1: '59.97',
    });
    expect(tracker.events).toEqual(new Set(['purchase']));
  });

  it.each(GOLDEN)('%s renders the documented postback', (preset, values, withToken, expected) => {
    const request = render(preset, values, withToken);
    expect(request.method).toBe('GET');
    expect(request.url).toBe(expected);
    // The click ID comes back as one value, byte for byte, whatever the parameter is called.
    expect(
      Object.values(Object.fromEntries(new URL(request.url).searchParams)).filter(
        (v) => v === CLICK,
      ),
    ).toHaveLength(1);
    expect(request.redactedUrl).not.toContain(TOKEN);
  });

  it("dub tracks a sale and a lead through Dub's API, the amount a JSON integer in minor units", () => {
    const options = resolvePostbackOptions({
      trackers: [
        { name: 'net', preset: 'dub', signing: { type: 'bearer', secret: 'dub_key_123' } },
      ],
    });
    const tracker = options.trackers.get('net')!;
    expect(tracker.clickParams).toEqual(['dub_id']);
    const sentAt = Date.UTC(2026, 10, 25, 10, 5);
    const sale = buildPostbackRequest(
      tracker,
      { ...FIELDS, customerId: 'cust-7' },
      'event-1',
      sentAt,
    );
    expect(sale.method).toBe('POST');
    expect(sale.url).toBe('https://api.dub.co/track/sale');
    expect(sale.headers).toMatchObject({
      'content-type': 'application/json',
      authorization: 'Bearer dub_key_123',
    });
    expect(sale.body).toBe(
      JSON.stringify({
        clickId: CLICK,
        eventName: 'Purchase',
        customerExternalId: 'cust-7',
        amount: 5997,
        currency: 'EUR',
        invoiceId: 'ORDER-1',
      }),
    );
    const lead = buildPostbackRequest(
      tracker,
      {
        clickId: CLICK,
        eventType: 'registration',
        conversionId: 'conv-2',
        occurredAt: FIELDS.occurredAt,
        customerId: 'cust-7',
      },
      'event-2',
      sentAt,
    );
    expect(lead.url).toBe('https://api.dub.co/track/lead');
    // Recorded before Dub answers, so a sale right behind it finds its lead.
    expect(JSON.parse(lead.body!)).toEqual({
      clickId: CLICK,
      eventName: 'Sign up',
      customerExternalId: 'cust-7',
      mode: 'wait',
    });
    expect(tracker.events).toEqual(new Set(['purchase', 'registration']));
  });

  it('takes a registration status from the per-event values', () => {
    const options = resolvePostbackOptions({
      trackers: [
        {
          name: 'net',
          preset: 'keitaro',
          values: DOMAIN,
          signing: { type: 'token', secret: TOKEN },
        },
      ],
    });
    const request = buildPostbackRequest(
      options.trackers.get('net')!,
      { ...FIELDS, eventType: 'registration' },
      'e',
      0,
    );
    expect(new URL(request.url).searchParams.get('status')).toBe('lead');
  });

  it.each([
    ['keitaro', DOMAIN, true, 'refund', 'status', 'rejected'],
    ['affise', DOMAIN, false, 'chargeback', 'status', '3'],
    ['trackier', DOMAIN, false, 'cancellation', 'status', 'cancelled'],
  ])(
    '%s reports a reversal with its own status code',
    (preset, values, withToken, type, key, code) => {
      const options = resolvePostbackOptions({
        trackers: [
          {
            name: 'net',
            preset: preset as PresetName,
            values,
            reversals: true,
            ...(withToken && { signing: { type: 'token' as const, secret: TOKEN } }),
          },
        ],
      });
      const request = buildPostbackRequest(
        options.trackers.get('net')!,
        { ...FIELDS, eventType: type },
        'e',
        0,
      );
      expect(new URL(request.url).searchParams.get(key)).toBe(code);
    },
  );

  // conv-change picks the conversion by Scaleo's transaction ID, or by click ID + goal: the
  // goal of the purchase, or it changes the click's last conversion of the default goal.
  it("sends Scaleo reversals to its status-change endpoint, with the purchase's goal", () => {
    const options = resolvePostbackOptions({
      trackers: [
        {
          name: 'net',
          preset: 'scaleo',
          values: { workspace: 'acme', goal_id: '1673' },
          reversals: true,
          signing: { type: 'token', secret: TOKEN },
        },
      ],
    });
    const tracker = options.trackers.get('net')!;
    const purchase = buildPostbackRequest(tracker, FIELDS, 'e', 0);
    const refund = buildPostbackRequest(tracker, { ...FIELDS, eventType: 'refund' }, 'e', 0);
    expect(refund.url).toBe(
      `https://acme.scaletrk.com/track/conv-change?click_id=${ENCODED_CLICK}&goal_id=1673&conv_status=rejected&adv_order_id=ORDER-1&token=tok3n`,
    );
    expect(new URL(refund.url).searchParams.get('goal_id')).toBe(
      new URL(purchase.url).searchParams.get('goal_id'),
    );
  });

  it.each(['refund', 'chargeback', 'cancellation'])(
    'gives a Scaleo %s the goal of a purchase that has its own (eventValues.purchase.goal_id)',
    (type) => {
      const tracker = resolvePostbackOptions({
        trackers: [
          {
            name: 'net',
            preset: 'scaleo',
            values: { workspace: 'acme' },
            eventValues: { purchase: { goal_id: '1673' } },
            reversals: true,
            signing: { type: 'token', secret: TOKEN },
          },
        ],
      }).trackers.get('net')!;
      const goal = (eventType: string) =>
        new URL(
          buildPostbackRequest(tracker, { ...FIELDS, eventType }, 'e', 0).url,
        ).searchParams.get('goal_id');
      expect(goal('purchase')).toBe('1673');
      expect(goal(type)).toBe('1673');
    },
  );

  it("keeps a Scaleo reversal's own goal over the purchase's", () => {
    const tracker = resolvePostbackOptions({
      trackers: [
        {
          name: 'net',
          preset: 'scaleo',
          values: { workspace: 'acme' },
          eventValues: { purchase: { goal_id: '1673' }, refund: { goal_id: '1700' } },
          reversals: true,
          signing: { type: 'token', secret: TOKEN },
        },
      ],
    }).trackers.get('net')!;
    const refund = buildPostbackRequest(tracker, { ...FIELDS, eventType: 'refund' }, 'e', 0);
    expect(new URL(refund.url).searchParams.get('goal_id')).toBe('1700');
  });

  it('sends RedTrack the conversion type under the name the account defines, case and all', () => {
    const options = resolvePostbackOptions({
      trackers: [
        {
          name: 'net',
          preset: 'redtrack',
          values: DOMAIN,
          eventValues: { purchase: { conversion_type: 'Purchase' } },
        },
      ],
    });
    const tracker = options.trackers.get('net')!;
    const purchase = buildPostbackRequest(tracker, FIELDS, 'e', 0);
    const registration = buildPostbackRequest(
      tracker,
      { ...FIELDS, eventType: 'registration' },
      'e',
      0,
    );
    expect(new URL(purchase.url).searchParams.get('type')).toBe('Purchase');
    expect(new URL(registration.url).searchParams.get('type')).toBe('registration');
  });

  it('refuses values.conversion_type, which RedTrack would ignore, pointing to eventValues', () => {
    expect(() =>
      resolvePostbackOptions({
        trackers: [
          {
            name: 'net',
            preset: 'redtrack',
            values: { ...DOMAIN, conversion_type: 'Purchase' },
          },
        ],
      }),
    ).toThrow(/values\.conversion_type would be ignored.*eventValues\.<type>\.conversion_type/);
  });

  it.each([
    [
      'a refund through a sale template',
      {
        preset: 'keitaro',
        values: DOMAIN,
        signing: { type: 'token' as const, secret: TOKEN },
        reversals: true,
        postback: { url: 'https://t.example/{token}/pb?subid={click_id}&payout={payout}' },
      },
      /nothing in the template tells a refund from a sale/,
    ],
    [
      'reversals with events that list none',
      {
        preset: 'keitaro',
        values: DOMAIN,
        signing: { type: 'token' as const, secret: TOKEN },
        reversals: true,
        events: ['purchase'],
      },
      /reversals is on, but events lists none/,
    ],
    [
      'a token over plain HTTP on the reversal URL',
      {
        preset: 'scaleo',
        values: { workspace: 'acme' },
        signing: { type: 'token' as const, secret: TOKEN },
        reversals: true,
        reversalPostbackUrl: 'http://acme.example/conv-change?c={click_id}&s={status}',
      },
      /plain HTTP/,
    ],
  ])('refuses %s', (_what, tracker, message) => {
    expect(() =>
      resolvePostbackOptions({ trackers: [{ name: 'net', ...tracker } as TrackerOptions] }),
    ).toThrow(message);
  });

  it("accepts reversals through the merchant's own template when it carries the event type", () => {
    const options = resolvePostbackOptions({
      trackers: [
        {
          name: 'net',
          preset: 'voluum',
          reversals: true,
          postback: { url: 'https://t.example/pb?cid={click_id}&et={event_type}' },
        },
      ],
    });
    expect(options.trackers.get('net')?.reversals).toBe(true);
  });

  it('refuses reversals for a network that documents none', () => {
    expect(() =>
      resolvePostbackOptions({
        trackers: [{ name: 'net', preset: 'voluum', values: DOMAIN, reversals: true }],
      }),
    ).toThrow(/Voluum documents no reversal postback/);
  });

  it('lets the merchant override any part of a preset', () => {
    const options = resolvePostbackOptions({
      trackers: [{ name: 'net', preset: 'voluum', clickParams: ['s2'], values: { ...DOMAIN } }],
    });
    expect(options.trackers.get('net')?.clickParams).toEqual(['s2']);
  });

  it.each([
    [{ preset: 'volume', values: DOMAIN }, /unknown preset "volume"; known: voluum/],
    [
      { preset: 'voluum' },
      /\{\{tracking_domain\}\} is not filled in: set values.tracking_domain \(your Voluum tracking domain/,
    ],
    [
      { preset: 'voluum', values: { tracking_domain: 'evil.com/x?y=' } },
      /\{\{tracking_domain\}\} must be letters, digits/,
    ],
    [{ preset: 'scaleo', values: { workspace: 'acme' } }, /Scaleo needs its security token/],
    [
      { preset: 'dub' },
      /Dub \(dub.co conversions\) takes a bearer token: signing: \{ type: 'bearer', secret: <API key/,
    ],
    [
      {
        preset: 'impact',
        values: { account_sid: 'IRabc123', campaign_id: '1', action_tracker_id: '2' },
        signing: { type: 'token' as const, secret: 'tok' },
      },
      /Impact \(impact.com\) takes HTTP Basic authentication: signing: \{ type: 'basic', username: <Account SID>, secret: <Auth Token> \}/,
    ],
  ])('explains a preset it cannot use: %j', (tracker, message) => {
    expect(() =>
      resolvePostbackOptions({ trackers: [{ name: 'net', ...tracker } as TrackerOptions] }),
    ).toThrow(PostbackConfigurationError);
    expect(() =>
      resolvePostbackOptions({ trackers: [{ name: 'net', ...tracker } as TrackerOptions] }),
    ).toThrow(message);
  });
});

// Trackier's `currency` is the payout's: one currency labels sale_amount and revenue both.
describe('trackier currency', () => {
  const trackier = () =>
    resolvePostbackOptions({
      trackers: [{ name: 'trk', preset: 'trackier', values: DOMAIN }],
    }).trackers.get('trk')!;
  const params = (fields: Partial<PostbackFields>) =>
    new URL(buildPostbackRequest(trackier(), { ...FIELDS, ...fields }, 'e', 0).url).searchParams;

  it('leaves sale_amount out when the payout is in another currency than the order', () => {
    const sent = params({});
    expect(sent.get('currency')).toBe('USD');
    expect(sent.get('revenue')).toBe('4.50');
    expect(sent.has('sale_amount')).toBe(false);
  });

  it('sends sale_amount when the order and the payout share a currency', () => {
    const sent = params({ payoutCurrency: 'EUR' });
    expect(sent.get('currency')).toBe('EUR');
    expect(sent.get('sale_amount')).toBe('59.97');
  });

  it("names the order's currency when there is no commission", () => {
    const sent = params({ payout: undefined, payoutCurrency: undefined });
    expect(sent.get('currency')).toBe('EUR');
    expect(sent.get('sale_amount')).toBe('59.97');
    expect(sent.has('revenue')).toBe(false);
  });
});
