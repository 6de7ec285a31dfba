import { isReversal } from '../../common/event-types.js';
import type { PostbackPreset } from './postback-preset.interface.js';

/** Affiliate networks the merchant (as advertiser) reports to (facts: networks.md §1, §3). */
export const NETWORK_PRESETS: PostbackPreset[] = [
  {
    name: 'everflow',
    title: 'Everflow',
    role: 'network',
    clickParams: ['transaction_id'],
    clickMacro: '{transaction_id}',
    postback: {
      url: 'https://{{tracking_domain}}/?nid={{nid}}&transaction_id={click_id}&amount={amount}&order_id={order_id}',
    },
    placeholders: { tracking_domain: 'your Everflow tracking domain', nid: 'your network ID' },
    token: { param: 'verification_token', required: false },
    // Advertiser postbacks have no currency parameter: the amount is "formatted based on the
    // offer currency". The tracker names that currency, and an order in another is refused.
    amountsIn: "the offer's currency",
    source:
      'helpdesk.everflow.io "Getting Started – Advertiser Server Postbacks" (amount in the offer currency, no currency parameter); developers.everflow.io',
  },
  {
    name: 'tune',
    title: 'TUNE / HasOffers',
    role: 'network',
    clickParams: ['transaction_id'],
    clickMacro: '{transaction_id}',
    postback: {
      url: 'https://{{network_id}}.go2cloud.org/aff_lsr?offer_id={{offer_id}}&transaction_id={click_id}&amount={amount}&adv_sub={order_id}',
    },
    placeholders: {
      network_id: 'your TUNE network ID (the go2cloud.org subdomain)',
      offer_id: 'the offer ID',
    },
    token: { param: 'security_token', required: false },
    // The answer is `success=true;` or `success=false; err_msg=…`, and the message may quote
    // the success text: only a body that starts with it is a success.
    successBodyMatch: /^\s*success=true\s*(?:;|$)/,
    source:
      'support.tune.com "Receiving Conversions via Postback URL", "Advertiser Security Tokens"',
  },
  {
    name: 'cake',
    title: 'CAKE',
    role: 'network',
    clickParams: ['reqid'],
    clickMacro: '#reqid#',
    postback: {
      url: 'https://{{tracking_domain}}/p.ashx?o={{offer_id}}&e={event}&f=pb&r={click_id}&t={order_id}&p={amount}',
    },
    placeholders: { tracking_domain: 'your CAKE tracking domain', offer_id: 'the offer ID' },
    defaults: { event: '1' },
    unconfirmed: [
      'the amount key "p" (seen only in public code samples)',
      'the event ID per event type ("e")',
      "CAKE's answer to a postback: any 2xx counts as delivered (CAKE documents answers for posted leads only, not for p.ashx postbacks), so a refusal answered 200 is not seen; check CAKE's conversion report after a test",
    ],
    source: 'support.getcake.com "How to Implement Server-to-Server Tracking Using a Postback URL"',
  },
  {
    name: 'affise',
    title: 'Affise',
    role: 'network',
    clickParams: ['clickid'],
    clickMacro: '{clickid}',
    postback: {
      url: 'https://{{tracking_domain}}/postback?clickid={click_id}&action_id={order_id}&goal={goal}&sum={payout}&status={status}',
    },
    placeholders: { tracking_domain: 'your Affise tracking domain' },
    defaults: { goal: '1', status: '1' },
    // 1 approved, 2 pending, 3 declined, 5 hold
    eventValues: {
      refund: { status: '3' },
      chargeback: { status: '3' },
      cancellation: { status: '3' },
    },
    reversals: true,
    token: { param: 'secure', required: false },
    unconfirmed: [
      'the currency parameter of advertiser postbacks',
      'that a status=3 postback for an existing action_id declines it (reversals)',
    ],
    source: 'help-center.affise.com "Affise postback URL parameters"',
  },
  {
    name: 'trackier',
    title: 'Trackier',
    role: 'network',
    clickParams: ['click_id'],
    postback: {
      // `currency` is "Currency of the payout" (revenue): one currency labels both amounts.
      url: 'https://{{tracking_domain}}/acquisition?click_id={click_id}&txn_id={order_id}&sale_amount={trackier_sale_amount}&revenue={payout}&currency={trackier_currency}&status={status}',
    },
    computed: {
      // The payout's currency, or the order's when there is no commission.
      trackier_currency: (fields) => fields.payoutCurrency ?? fields.currency,
      // Left out when the payout is in another currency: labelled with the payout's, the
      // order's amount would be a wrong number (59.97 EUR reported as 59.97 USD).
      trackier_sale_amount: (fields) =>
        fields.payoutCurrency === undefined || fields.payoutCurrency === fields.currency
          ? fields.amount
          : undefined,
    },
    placeholders: {
      tracking_domain: 'your Trackier tracking domain (<network>.<trackier-domain>)',
    },
    defaults: { status: 'approved' },
    eventValues: {
      refund: { status: 'rejected' },
      chargeback: { status: 'rejected' },
      cancellation: { status: 'cancelled' },
    },
    reversals: true,
    token: { param: 'security_token', required: false },
    unconfirmed: [
      'the security token parameter name',
      'the click-ID macro name on the network side',
      "the currency of sale_amount: currency names the payout's, so sale_amount is sent only when the order is in that currency (or there is no commission, when currency is the order's) and left out otherwise",
      'reversals: the status mapping, and whether a second postback on the click is refused as DUPLICATE_CLICK_ID unless multiple conversions are enabled',
    ],
    source: 'help.trackier.com "Key Parameters for Setting Up Advertiser Postback"',
  },
  {
    name: 'scaleo',
    title: 'Scaleo',
    role: 'network',
    clickParams: ['click_id'],
    postback: {
      url: 'https://{{workspace}}.scaletrk.com/track/conv?click_id={click_id}&goal_id={goal_id}&conv_status={status}&adv_order_id={order_id}',
    },
    placeholders: { workspace: 'your Scaleo workspace (the scaletrk.com subdomain)' },
    defaults: { goal_id: '1', status: 'approved' },
    // Status changes go to their own endpoint, which picks the conversion by Scaleo's
    // transaction ID (which the shop never learns) or by click ID plus goal: without the goal
    // it changes the click's last conversion of the offer's default goal.
    reversalUrl:
      'https://{{workspace}}.scaletrk.com/track/conv-change?click_id={click_id}&goal_id={goal_id}&conv_status={status}&adv_order_id={order_id}',
    eventValues: {
      refund: { status: 'rejected' },
      chargeback: { status: 'rejected' },
      cancellation: { status: 'rejected' },
    },
    reversals: true,
    reversalsKeep: ['goal_id'],
    token: { param: 'token', required: true },
    notes: [
      "a reversal changes the click's LAST conversion with the goal_id it carries: refunds, chargebacks and cancellations carry the purchase's (eventValues.purchase.goal_id, else values.goal_id; eventValues.<reversal>.goal_id overrides it, e.g. for the refund of another event type with its own goal), and with Multiple Conversions on, a refund of an earlier order on the same click changes the latest one",
    ],
    source:
      'help.scaleo.io "Ultimate Postbacks" (484: conv-change selects by Transaction ID, or by click ID + goal_id/goal_alias), "Advertiser Security Token for Postback"',
  },
  {
    name: 'offer18',
    title: 'Offer18',
    role: 'network',
    clickParams: ['tid'],
    clickMacro: '{tid}',
    postback: {
      url: 'https://{{tracking_domain}}/p?mid={{mid}}&tid={click_id}&event={event}&adv_sub1={order_id}&sale={amount}',
    },
    placeholders: {
      tracking_domain: 'your Offer18 network domain',
      mid: 'your advertiser (merchant) ID',
    },
    defaults: { event: 'sale' },
    token: { param: 'auth_token', required: false },
    unconfirmed: [
      'payout and currency keys',
      'the event token: "sale" is a stand-in for the one the network gives you',
      'the token travels as the auth_token query parameter: Offer18\'s postback log refuses with "auth_token mismatch" when the advertiser\'s postback token is on, but the parameter list read does not show it',
      "Offer18's answer: refusals (auth_token mismatch, IP not in Whitelist, Cleared due to Multi Conversion) show in its Advertiser Postback Logs; whether they come with a non-2xx status is not documented",
    ],
    source:
      'offer18.gitbook.io "In-depth Postback Integration Guide"; knowledgebase.offer18.com "What are different status in Advertiser Postback logs?"',
  },
  {
    name: 'awin',
    title: 'Awin',
    role: 'network',
    clickParams: ['awc'],
    postback: {
      url: 'https://www.awin1.com/sread.php?tt=ss&tv=2&merchant={{merchant_id}}&amount={amount}&ch={channel}&parts={commission_group}:{amount}&cr={currency}&ref={order_id}&testmode={testmode}&cks={click_id}',
    },
    placeholders: { merchant_id: 'your Awin advertiser ID' },
    defaults: { channel: 'aw', commission_group: 'DEFAULT', testmode: '0' },
    events: ['purchase'],
    source:
      'wiki.awin.com "Server to Server Tracking"; developer.awin.com "Direct S2S Integration"',
  },
  {
    name: 'cj',
    title: 'CJ (Commission Junction)',
    role: 'network',
    clickParams: ['cjevent'],
    postback: {
      url: 'https://www.emjcd.com/u?CID={{enterprise_id}}&TYPE={{action_tracker_id}}&METHOD=S2S&CJEVENT={click_id}&eventTime={occurred_at}&OID={order_id}&CURRENCY={currency}&ITEM1={item}&AMT1={amount}&QTY1=1',
    },
    placeholders: {
      enterprise_id: 'your CJ enterprise ID (CID)',
      action_tracker_id: 'the action tracker ID (TYPE)',
    },
    defaults: { item: 'order' },
    events: ['purchase'],
    unconfirmed: [
      'a whole order sent as one item (ITEM1/AMT1/QTY1=1); send items yourself for item-level commissions',
    ],
    source: 'docs.cj.com "S2S Implementation"',
  },
  {
    name: 'impact',
    title: 'Impact (impact.com)',
    role: 'network',
    clickParams: ['irclickid'],
    // Not a GET postback: a conversion submitted to Impact's API, authenticated with the
    // Account SID and the Auth Token (HTTP Basic), from the server only.
    postback: {
      url: 'https://api.impact.com/Advertisers/{{account_sid}}/Conversions',
      method: 'POST',
      format: 'form',
      body: {
        CampaignId: '{{campaign_id}}',
        ActionTrackerId: '{{action_tracker_id}}',
        ClickId: '{click_id}',
        EventDate: '{occurred_at}',
        OrderId: '{order_id}',
        CurrencyCode: '{currency}',
        ItemSku1: '{item}',
        ItemQuantity1: '1',
        ItemSubTotal1: '{amount}',
      },
    },
    placeholders: {
      account_sid: 'your Account SID (the user name of signing too)',
      campaign_id: 'the program (campaign) ID',
      action_tracker_id: 'the action tracker ID of the conversion event',
    },
    defaults: { item: 'order' },
    auth: { type: 'basic', username: 'Account SID', secret: 'Auth Token' },
    events: ['purchase'],
    unconfirmed: [
      'the body encoding (form fields here)',
      'the item fields numbered from 1 (ItemSku1, ItemQuantity1, ItemSubTotal1), a whole order sent as one item',
      'how Impact dedupes a conversion submitted twice with the same OrderId',
    ],
    source:
      'integrations.impact.com "API Tracking Integration", "Implementation", "Submit a conversion"',
  },
  {
    name: 'dub',
    title: 'Dub (dub.co conversions)',
    role: 'network',
    clickParams: ['dub_id'],
    // Dub's Track API: a lead (/track/lead) for a registration, a sale (/track/sale) for a
    // purchase, both keyed by the shop's customer ID, the sale's amount an integer in Dub's
    // minor units (hundredths of every currency but Dub's zero-decimal list). Authenticated
    // with a workspace API key (bearer) of an owner or member; the track routes need Dub's
    // Business plan. Leads go with mode "wait": in Dub's default ("async") the lead is
    // ingested after the answer, and a sale right behind it meets 404 "Lead event not found"
    // (dubinc/dub apps/web/lib/api/conversions/track-lead.ts).
    postback: {
      url: 'https://api.dub.co/track/{dub_track}',
      method: 'POST',
      format: 'json',
      body: {
        clickId: '{click_id}',
        eventName: '{dub_event_name}',
        customerExternalId: '{customer_id}',
        amount: '{amount_minor}',
        currency: '{currency}',
        invoiceId: '{order_id}',
        mode: '{dub_mode}',
      },
      jsonNumbers: ['amount'],
    },
    minorUnits: 'dub',
    placeholders: {},
    eventValues: {
      purchase: { dub_track: 'sale', dub_event_name: 'Purchase' },
      registration: { dub_track: 'lead', dub_event_name: 'Sign up', dub_mode: 'wait' },
    },
    auth: {
      type: 'bearer',
      secret: "API key (a workspace key made by an owner or member; Dub's Business plan)",
    },
    // A sale whose lead Dub has not ingested yet (a lead sent in "async" mode, by this shop
    // or another integration) is refused with 404 until it is: retried, for an hour.
    notYet: [
      {
        status: 404,
        bodyMatch: /"message"\s*:\s*"Lead event (?:data )?not found\b/,
        forMs: 60 * 60 * 1000,
        why: 'Dub has no lead for this customer yet (Dub records leads asynchronously unless asked to wait)',
      },
    ],
    events: ['purchase', 'registration'],
    unconfirmed: [
      "every event needs the shop's customer ID (customerExternalId): a guest purchase without one is refused by Dub and dead-lettered",
      'a sale carries the click ID too, which Dub documents for a "direct sale" without a prior lead',
      'the event names ("Purchase", "Sign up"): set eventValues.<type>.dub_event_name to yours',
    ],
    notes: [
      'Dub dedupes a sale on its invoiceId (the order ID) and a lead on customer + event name, each for 7 days: a replay within them is answered as a success without recording anything new',
    ],
    source:
      'dub.co docs: conversions quickstart, direct sale, api-reference track-sale; github.com/dubinc/dub PRs #2157, #2828; apps/web/lib/api/conversions/track-lead.ts, track-sale.ts',
  },
  {
    name: 'post-affiliate-pro',
    title: 'Post Affiliate Pro',
    role: 'network',
    clickParams: ['PAPVisitorId'],
    postback: {
      url: 'https://{{pap_domain}}/scripts/track.php?visitorId={click_id}&accountId={account_id}&tracking=1&sale={pap_sale}',
    },
    placeholders: { pap_domain: 'your Post Affiliate Pro domain' },
    defaults: { account_id: 'default1' },
    // The sale travels as URL-encoded JSON: total, order ID, currency, status, and the
    // commission the shop computed (cc) when there is one.
    computed: {
      pap_sale: (fields) =>
        JSON.stringify([
          {
            t: fields.amount ?? '',
            o: fields.orderId ?? fields.conversionId,
            cr: fields.currency ?? '',
            s: isReversal(fields.eventType) ? 'D' : 'A',
            ...(fields.payout !== undefined && { cc: fields.payout }),
          },
        ]),
    },
    events: ['purchase'],
    unconfirmed: [
      'the visitor ID comes from the PAPVisitorId cookie, not a landing parameter: pass it as clickId on the event',
      'whether sale= takes a JSON array or a single object (an array here), and the accountId default',
      'the commission (cc) is read in the sale currency (cr)',
    ],
    source: 'support.qualityunit.com "Sale (action) tracking request data description" (038895)',
  },
];
