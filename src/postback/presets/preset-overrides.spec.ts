import type { TrackerOptions } from '../../interfaces/index.js';
import type { PostbackFields } from '../postback-fields.js';
import { PostbackConfigurationError } from '../../errors/postback-configuration.error.js';
import { resolvePostbackOptions } from '../../options/resolve-options.js';
import { buildPostbackRequest } from '../postback-request.builder.js';

const SALE: PostbackFields = {
  clickId: 'click-1',
  eventType: 'purchase',
  conversionId: 'conv-1',
  occurredAt: Date.UTC(2026, 0, 5),
  orderId: 'ORDER-1',
  amount: '59.97',
  currency: 'EUR',
  customerId: 'cust-7',
};
const DUB_SIGNING = { type: 'bearer', secret: 'dub_key_123' } as const;

function trackerOf(options: Omit<TrackerOptions, 'name'>) {
  return resolvePostbackOptions({ trackers: [{ name: 'net', ...options }] }).trackers.get('net')!;
}

function saleOf(options: Omit<TrackerOptions, 'name'>) {
  return buildPostbackRequest(trackerOf(options), SALE, 'event-1', Date.UTC(2026, 0, 5, 0, 1));
}

function problemsOf(options: Omit<TrackerOptions, 'name'>): string {
  try {
    trackerOf(options);
  } catch (error) {
    expect(error).toBeInstanceOf(PostbackConfigurationError);
    return (error as Error).message;
  }
  throw new Error('the options were accepted');
}

describe('a preset with some of its fields overridden', () => {
  const dub = saleOf({ preset: 'dub', signing: DUB_SIGNING });

  it('dub with only postback.url changed sends the same POST and JSON body to the new host', () => {
    const staging = saleOf({
      preset: 'dub',
      signing: DUB_SIGNING,
      postback: { url: 'https://dub.staging.example/track/{dub_track}' },
    });
    expect(staging.url).toBe('https://dub.staging.example/track/sale');
    expect(staging.method).toBe('POST');
    expect(staging.headers).toEqual(dub.headers);
    expect(staging.body).toBe(dub.body);
    expect(JSON.parse(staging.body!)).toMatchObject({ amount: 5997, invoiceId: 'ORDER-1' });
  });

  it('merges body fields: the ones given replace or join the preset’s, the rest stay', () => {
    const sale = saleOf({
      preset: 'dub',
      signing: DUB_SIGNING,
      postback: { body: { eventName: 'Order placed', metadata: '{order_id}' } },
    });
    expect(sale.url).toBe('https://api.dub.co/track/sale');
    expect(JSON.parse(sale.body!)).toEqual({
      ...JSON.parse(dub.body!),
      eventName: 'Order placed',
      metadata: 'ORDER-1',
    });
  });

  it('leaves out a body field set to null, and its number rule with it', () => {
    const sale = saleOf({
      preset: 'dub',
      signing: DUB_SIGNING,
      postback: { body: { clickId: null, amount: null, currency: null } },
    });
    const body = JSON.parse(sale.body!) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['eventName', 'customerExternalId', 'invoiceId']);
    expect(trackerOf({ preset: 'dub', signing: DUB_SIGNING }).jsonNumbers).toEqual(
      new Set(['amount']),
    );
  });

  it('replaces the preset’s jsonNumbers with a list given', () => {
    const sale = saleOf({
      preset: 'dub',
      signing: DUB_SIGNING,
      postback: { body: { quantity: '3' }, jsonNumbers: ['amount', 'quantity'] },
    });
    expect(JSON.parse(sale.body!)).toMatchObject({ amount: 5997, quantity: 3 });
  });

  it("drops the preset's JSON number rule when the body goes as a form", () => {
    const sale = saleOf({ preset: 'dub', signing: DUB_SIGNING, postback: { format: 'form' } });
    expect(sale.headers['content-type']).toMatch(/x-www-form-urlencoded/);
    expect(new URLSearchParams(sale.body).get('amount')).toBe('5997');
  });

  it("still refuses the merchant's own jsonNumbers with a form body", () => {
    expect(
      problemsOf({
        preset: 'dub',
        signing: DUB_SIGNING,
        postback: { format: 'form', jsonNumbers: ['amount'] },
      }),
    ).toMatch(/postback\.jsonNumbers is only for a POST with format json/);
  });

  it('keeps the preset’s URL and body when only the format changes', () => {
    const impact = {
      preset: 'impact',
      values: { account_sid: 'IRabc', campaign_id: '11', action_tracker_id: '22' },
      signing: { type: 'basic', username: 'IRabc', secret: 'auth' },
    } as const;
    const sale = saleOf({ ...impact, postback: { format: 'json' } });
    expect(sale.url).toBe('https://api.impact.com/Advertisers/IRabc/Conversions');
    expect(sale.headers['content-type']).toBe('application/json');
    expect(JSON.parse(sale.body!)).toMatchObject({ CampaignId: '11', OrderId: 'ORDER-1' });
  });

  it('refuses a GET over a preset that sends a body, naming its fields', () => {
    expect(
      problemsOf({ preset: 'dub', signing: DUB_SIGNING, postback: { method: 'GET' } }),
    ).toMatch(
      /postback\.method GET would leave out the body of preset "dub" \(clickId, eventName, customerExternalId, amount, currency, invoiceId, mode\): keep POST, or set each field to null/,
    );
  });

  it('refuses a postback moved to another host whose reversals would still go to the preset’s', () => {
    const scaleo = {
      preset: 'scaleo',
      values: { workspace: 'acme' },
      signing: { type: 'token', secret: 'tok' },
      reversals: true,
    } as const;
    const moved = {
      url: 'https://staging.example/track/conv?click_id={click_id}&conv_status={status}',
    };
    expect(problemsOf({ ...scaleo, postback: moved })).toMatch(
      /postback\.url replaces Scaleo's, but reversals would still go to the preset's reversal endpoint https:\/\/\{\{workspace\}\}\.scaletrk\.com\/track\/conv-change.*: set reversalPostbackUrl too/,
    );
    const tracker = trackerOf({
      ...scaleo,
      values: {}, // both templates are the merchant's: no {{workspace}} left to fill
      postback: moved,
      reversalPostbackUrl:
        'https://staging.example/track/conv-change?click_id={click_id}&conv_status={status}',
    });
    expect(tracker.reversalUrl?.origin).toBe('https://staging.example');
  });

  it('still refuses reversals to a preset without them when only the method or body changes', () => {
    expect(
      problemsOf({
        preset: 'voluum',
        values: { tracking_domain: 'trk.example.com' },
        reversals: true,
        postback: { method: 'POST' },
      }),
    ).toMatch(/Voluum documents no reversal postback/);
  });
});

describe('a body field set to null', () => {
  it("refuses one the preset does not send, with the preset's closest field", () => {
    expect(
      problemsOf({
        preset: 'dub',
        signing: { type: 'bearer', secret: 'dub_k' },
        postback: { body: { clickid: null } },
      }),
    ).toMatch(/postback\.body\.clickid is null.*Dub.*has no "clickid": did you mean "clickId"\?/);
  });

  it("lists the preset's fields when none is close", () => {
    expect(
      problemsOf({
        preset: 'dub',
        signing: { type: 'bearer', secret: 'dub_k' },
        postback: { body: { zzz: null } },
      }),
    ).toMatch(/known: clickId, eventName, customerExternalId/);
  });
});

describe('a tracker without a preset', () => {
  it('needs postback.url', () => {
    expect(problemsOf({ clickParams: ['cid'], postback: { method: 'POST' } })).toMatch(
      /postback\.url is required \(or a preset that gives one\)/,
    );
  });

  it('refuses a body field set to null: there is no preset field to leave out', () => {
    expect(
      problemsOf({
        clickParams: ['cid'],
        postback: {
          url: 'https://t.example/pb',
          method: 'POST',
          format: 'json',
          body: { cid: '{click_id}', note: null },
        },
      }),
    ).toMatch(/postback\.body\.note is null.*no preset: remove it/);
  });
});
