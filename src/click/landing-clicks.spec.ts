import { resolvePostbackOptions } from '../options/resolve-options.js';
import { landingClicks } from './landing-clicks.js';
import { LandingQueryReader } from './landing-query.js';

const options = resolvePostbackOptions({
  trackers: ['first', 'second', 'third'].map((name) => ({
    name,
    clickParams: [`${name}_cid`],
    subParams: [`${name}_sub`],
    maxClickIdLength: 8,
    postback: { url: `https://${name}.example/pb?c={click_id}` },
  })),
});
const reader = new LandingQueryReader(options.trackers.values());
const found = (target: string) => landingClicks(target, reader, options.trackers.values());
const trackersOf = (target: string) => found(target).clicks.map((c) => c.tracker);
const ZERO_WIDTH_SPACE = '%E2%80%8B';

describe('landingClicks', () => {
  it('credits the first configured tracker, whatever order the parameters come in', () => {
    expect(trackersOf('/?third_cid=T&second_cid=S&first_cid=F')).toEqual(['first']);
    expect(trackersOf('/?third_cid=T&second_cid=S')).toEqual(['second']);
  });

  it('passes over a tracker whose click ID is refused, and says why for each left out', () => {
    const landing = found('/?first_cid=far-too-long&third_cid=T&second_cid=S');
    expect(landing.clicks.map((c) => [c.tracker, c.clickId])).toEqual([['second', 'S']]);
    expect(landing.problems).toEqual([
      expect.stringMatching(/^click ID in "first_cid" .*; not captured$/),
      expect.stringMatching(/^the click ID of tracker "third" was ignored: .*\("second"\)$/),
    ]);
  });

  it('validates nothing of the trackers after the one chosen: they are only reported ignored', () => {
    const landing = found(
      `/?first_cid=F&second_cid=far-too-long&third_cid=T&third_sub=${ZERO_WIDTH_SPACE}`,
    );
    expect(landing.clicks.map((c) => c.tracker)).toEqual(['first']);
    expect(landing.problems).toEqual([
      expect.stringMatching(/^the click ID of tracker "second" was ignored: .*\("first"\)$/),
      expect.stringMatching(/^the click ID of tracker "third" was ignored: .*\("first"\)$/),
    ]);
  });

  it('captures the click without a refused sub-parameter of its tracker, and says so', () => {
    const landing = found(`/?first_cid=F&first_sub=${ZERO_WIDTH_SPACE}`);
    expect(landing.clicks).toEqual([{ tracker: 'first', clickId: 'F', subParams: {} }]);
    expect(landing.problems).toEqual([
      expect.stringMatching(/^sub-parameter "first_sub" .*; left out$/),
    ]);
  });

  it('finds nothing in a landing without the trackers’ parameters', () => {
    expect(found('/?utm_source=x')).toEqual({ clicks: [], problems: [] });
  });
});
