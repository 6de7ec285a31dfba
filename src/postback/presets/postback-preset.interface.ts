import type { MinorUnitRule } from '../../common/minor-units.js';
import type { PostbackTemplateOptions } from '../../interfaces/index.js';
import type { PostbackFields } from '../postback-fields.js';
import type { PresetName } from '../../common/preset-names.js';

/**
 * What a tracking service or network documents about receiving S2S postbacks, so a merchant
 * configures it by name. Facts come from `shared/reference/networks.md`; anything that source
 * marks unconfirmed is listed in `unconfirmed`, never silently assumed.
 *
 * @publicApi
 */
export interface PostbackPreset {
  name: PresetName;
  title: string;
  /** `tracker`: the merchant reports to its own tracker; `network`: to the affiliate network. */
  role: 'tracker' | 'network';
  /** Landing-page parameter(s) the click ID usually arrives in; the merchant may override. */
  clickParams: string[];
  /**
   * The network's own macro for its click ID, to put in the landing URL given to it, or
   * undefined when the network appends its parameter by itself.
   */
  clickMacro?: string;
  /** `{{placeholder}}`s are filled from the tracker's `values`; `{macro}`s at send time. */
  postback: PostbackTemplateOptions & { url: string; body?: Record<string, string> };
  /** Values the merchant must give (`values.<name>`), with what each one is. */
  placeholders: Record<string, string>;
  /** Values with a sensible default the merchant may override. */
  defaults?: Record<string, string>;
  /** Status or goal codes by event type. */
  eventValues?: Record<string, Record<string, string>>;
  /**
   * The network's security token: the query parameter that carries it, or `'{token}'` when
   * the template places it (e.g. in the path). The secret itself is the merchant's
   * (`signing: { type: 'token', secret }`).
   */
  token?: { param?: string; required: boolean };
  /**
   * The network's API takes HTTP authentication, and only that: `signing: { type: 'basic',
   * username, secret }` or `{ type: 'bearer', secret }`, what each credential is said here.
   */
  auth?: { type: 'basic' | 'bearer'; username?: string; secret: string };
  /**
   * The network's success answer, where it answers 200 to refusals: a pattern anchored on the
   * whole answer (or its first field), never a substring an error message could quote.
   */
  successBodyMatch?: RegExp;
  /**
   * Refusals the network documents as "not yet" rather than "never": retried on the backoff
   * schedule until `forMs` after the network first answered so (in this run of the postback),
   * then dead with `why`.
   */
  notYet?: RetryableRefusal[];
  /** Event types the network takes postbacks for. @default every type */
  events?: string[];
  /** The network takes refunds, chargebacks and cancellations (through `eventValues` codes). */
  reversals?: boolean;
  /**
   * Values a reversal takes from `eventValues.purchase` when the purchase has its own and the
   * reversal type none: what the network picks the conversion to change by (Scaleo's goal).
   */
  reversalsKeep?: string[];
  /** Where reversals go, when not to the postback URL. */
  reversalUrl?: string;
  /**
   * Macros the network needs built from several fields (Post Affiliate Pro's JSON `sale`
   * parameter), by name; the template uses them like any other `{macro}`.
   */
  computed?: Record<string, (fields: PostbackFields) => string | undefined>;
  /** What the merchant must set up on the network's side for the postbacks to count. */
  notes?: string[];
  /**
   * The rule the network counts `{amount_minor}`/`{payout_minor}` by, when the template sends
   * minor units (the tracker's `minorUnits` may override it). @default 'iso4217'
   */
  minorUnits?: MinorUnitRule;
  /**
   * The network takes no currency parameter and reads amounts in a currency of its own, said
   * here ("the offer's currency"): the tracker must name it (`currency`), and postbacks in any
   * other currency are dead-lettered rather than reported as wrong numbers.
   */
  amountsIn?: string;
  /** Facts the reference marks unconfirmed; shown by the builder and in the README. */
  unconfirmed?: string[];
  /** Where the facts come from. */
  source: string;
}

/** A refusal that means "try again later", for a bounded time (see `PostbackPreset.notYet`). */
export interface RetryableRefusal {
  status: number;
  /** Anchored on what the network writes, never a substring a value could smuggle in. */
  bodyMatch: RegExp;
  forMs: number;
  /** What the refusal means, for the attempt log and the dead letter. */
  why: string;
}
