/**
 * `nestjs-postback/testing`: a local stand-in for a tracking service, for a shop's own tests
 * that a purchase produces the postback it expects, signature included.
 */
export {
  FakeTracker,
  type FakeResponse,
  type FakeTrackerOptions,
  type ReceivedPostback,
} from './fake-tracker.js';
