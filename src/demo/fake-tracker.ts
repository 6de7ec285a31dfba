// The stand-in tracker is public now (`nestjs-postback/testing`); the package's own tests and
// the demo keep importing it from here.
export * from '../testing/fake-tracker.js';
