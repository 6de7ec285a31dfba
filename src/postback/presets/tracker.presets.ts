import type { PostbackPreset } from './postback-preset.interface.js';

/** Tracking services the merchant reports to directly (facts: shared/reference/networks.md §1). */
export const TRACKER_PRESETS: PostbackPreset[] = [
  {
    name: 'voluum',
    title: 'Voluum',
    role: 'tracker',
    clickParams: ['cid'],
    clickMacro: '{clickid}',
    postback: {
      url: 'https://{{tracking_domain}}/postback?cid={click_id}&payout={payout}&txid={order_id}&currency={payout_currency}&et={event_type}',
    },
    placeholders: { tracking_domain: 'your Voluum tracking domain, e.g. abc12.voluumtrk.com' },
    source:
      'doc.voluum.com "Track Conversions Using S2S Postback URL", "Parameters in Postback URLs"',
  },
  {
    name: 'redtrack',
    title: 'RedTrack',
    role: 'tracker',
    clickParams: ['clickid'],
    clickMacro: '{clickid}',
    postback: {
      url: 'https://{{tracking_domain}}/postback?clickid={click_id}&sum={payout}&type={conversion_type}&rdtk_event_id={order_id}',
    },
    placeholders: { tracking_domain: 'your RedTrack tracking domain' },
    // RedTrack counts a conversion type only under a name defined in the account, spelt
    // exactly (case-sensitive): the event type by default, eventValues.<type>.conversion_type
    // for the account's own name ("Purchase").
    computed: { conversion_type: (fields) => fields.eventType },
    notes: [
      "define each conversion type in RedTrack (Tools → Conversion tracking → Conversion type) under exactly the name sent, case-sensitive: the event type (purchase, registration) unless eventValues.<type>.conversion_type gives the account's name",
    ],
    unconfirmed: ['the payout key "sum" is not confirmed by the docs read'],
    source:
      'help.redtrack.io "Dynamic parameters: clickid", "Conversion types and statuses" ("The fields are case-sensitive"; &type=<conversion type>)',
  },
  {
    name: 'keitaro',
    title: 'Keitaro',
    role: 'tracker',
    clickParams: ['subid'],
    clickMacro: '{subid}',
    postback: {
      url: 'https://{{tracking_domain}}/{token}/postback?subid={click_id}&tid={order_id}&payout={payout}&currency={payout_currency}&status={status}',
    },
    placeholders: { tracking_domain: 'your Keitaro domain' },
    eventValues: {
      purchase: { status: 'sale' },
      registration: { status: 'lead' },
      refund: { status: 'rejected' },
      chargeback: { status: 'rejected' },
      cancellation: { status: 'rejected' },
    },
    reversals: true,
    token: { required: true },
    unconfirmed: [
      'a partial refund is sent as status=rejected with its share of the payout; Keitaro documents rejection of the whole conversion only',
    ],
    source: 'docs.keitaro.io/en/conversions/postback.html; "S2S postback placeholders"',
  },
  {
    name: 'binom',
    title: 'Binom (v1 click.php)',
    role: 'tracker',
    clickParams: ['clickid'],
    clickMacro: '{clickid}',
    postback: {
      url: 'https://{{tracking_domain}}/click.php?cnv_id={click_id}&payout={payout}&cnv_status={status}&cnv_currency={payout_currency}',
    },
    placeholders: { tracking_domain: 'your Binom domain' },
    eventValues: { purchase: { status: 'sale' }, registration: { status: 'lead' } },
    unconfirmed: [
      'Binom 2 uses /postback?clickid= (third-party source only); this preset uses v1',
      'the cnv_status values (sale, lead) are not documented',
    ],
    source: 'docs.binom.org postback-url.php',
  },
  {
    name: 'bemob',
    title: 'BeMob',
    role: 'tracker',
    clickParams: ['cid'],
    postback: {
      url: 'https://{{tracking_domain}}/postback?cid={click_id}&payout={payout}&txid={order_id}&status={status}',
    },
    placeholders: { tracking_domain: 'your BeMob tracking domain' },
    defaults: { status: 'approved' },
    unconfirmed: ['the landing parameter name of the click ID (BeMob templates prefill it)'],
    source:
      'docs.bemob.com "Postback settings of affiliate network"; help.bemob.com "Postback Statuses"',
  },
  {
    name: 'generic',
    title: 'Generic ?click= postback (JotUrl-style)',
    role: 'tracker',
    clickParams: ['click'],
    postback: {
      url: 'https://{{tracking_domain}}/postback?click={click_id}&payout={payout}&txid={order_id}',
    },
    placeholders: { tracking_domain: 'the tracking service domain' },
    unconfirmed: [
      'JotUrl documents no fixed S2S syntax; adjust the parameter names to your service',
    ],
    source: 'joturl.zendesk.com "What is a Postback URL"',
  },
];
