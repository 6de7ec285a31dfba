import { consumerProgram, errorsOf } from './utils/consumer-program.js';

/**
 * A shop that declares its custom event types to the compiler (declaration merging into the
 * built package's `PostbackCustomEventTypes`) gets them checked in `record()`, the event
 * payloads and a tracker's `events`, the built-in types still accepted. Compiled in a program
 * of its own: the augmentation would otherwise narrow the types of every other test.
 */
const CONSUMER = `
import {
  type ConversionService,
  type CustomEventPayload,
  type PostbackEventType,
  type TrackerOptions,
} from 'nestjs-postback';

declare module 'nestjs-postback' {
  interface PostbackCustomEventTypes {
    lead: true;
    'subscription.renewed': true;
  }
}

declare const conversions: ConversionService;
void conversions.record({ type: 'lead', orderId: 'l-1' });
void conversions.record({ type: 'purchase', orderId: 'o-1', amount: '1.00', currency: 'EUR' });
const renewed: PostbackEventType = 'subscription.renewed';
const tracker: TrackerOptions = { name: 'a', preset: 'dub', events: ['lead', 'purchase'] };
void conversions.record({ type: 'leed', orderId: 'l-2' }); // refused
const payload: CustomEventPayload = { type: 'subscription.renewd', orderId: 's-1' }; // refused
const misspelt: TrackerOptions = { name: 'b', preset: 'dub', events: ['purchse'] }; // refused
export { renewed, tracker, payload, misspelt };
`;

describe('custom event types declared to the compiler', () => {
  it('accepts the declared and the built-in types, and refuses a misspelt one', () => {
    const { program, file } = consumerProgram(CONSUMER);
    const errors = errorsOf(program, file);
    const refused = CONSUMER.split('\n').flatMap((line, i) =>
      line.endsWith('// refused') ? [String(i + 1)] : [],
    );
    expect(refused).toHaveLength(3);
    expect(errors.map((e) => e.slice(0, e.indexOf(':')))).toEqual(refused);
    expect(errors[0]).toMatch(/"leed"/);
  });
});
