import type { PostbackDatabase } from '../database/postback-database.js';
import { resolvePostbackOptions } from '../resolve-postback-options.js';
import { ClickService } from './click.service.js';
import type { ClickWriteBuffer } from './click-write-buffer.js';
import { landingClicks } from './landing-clicks.js';
import { LandingQueryReader } from './landing-query.js';
import { VisitorKeys } from './visitor-keys.js';

const options = resolvePostbackOptions({
  trackers: ['first', 'second', 'third'].map((name) => ({
    name,
    clickParams: [`${name}_cid`],
    maxClickIdLength: 8,
    postback: { url: `https://${name}.example/pb?c={click_id}` },
  })),
});
// extract() needs neither the database nor the buffer.
const clicks = new ClickService(
  null as unknown as PostbackDatabase,
  null as unknown as ClickWriteBuffer,
  options,
  { now: () => 0 },
  new VisitorKeys(options),
);
const reader = new LandingQueryReader(options.trackers.values());
const trackersOf = (target: string) =>
  landingClicks(target, reader, clicks).clicks.map((c) => c.tracker);

describe('landingClicks', () => {
  it('credits the first configured tracker, whatever order the parameters come in', () => {
    expect(trackersOf('/?third_cid=T&second_cid=S&first_cid=F')).toEqual(['first']);
    expect(trackersOf('/?third_cid=T&second_cid=S')).toEqual(['second']);
  });

  it('passes over a tracker whose click ID is refused, and says why for each left out', () => {
    const found = landingClicks(
      '/?first_cid=far-too-long&third_cid=T&second_cid=S',
      reader,
      clicks,
    );
    expect(found.clicks.map((c) => [c.tracker, c.clickId])).toEqual([['second', 'S']]);
    expect(found.problems).toEqual([
      expect.stringMatching(/^click ID in "first_cid" /),
      expect.stringMatching(/^the click ID of tracker "third" was ignored: .*\("second"\)$/),
    ]);
  });

  it('finds nothing in a landing without the trackers’ parameters', () => {
    expect(landingClicks('/?utm_source=x', reader, clicks)).toEqual({ clicks: [], problems: [] });
  });
});
