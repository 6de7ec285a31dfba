import type { Request, Response } from 'express';

import { resolvePostbackOptions } from '../resolve-postback-options.js';
import { ClickCaptureMiddleware, MAX_PENDING_CLICK_WRITES } from './click-capture.middleware.js';
import type { ClickService } from './click.service.js';
import { SESSION_CLICKS_KEY } from '../postback.constants.js';

const options = resolvePostbackOptions({
  trackers: [
    { name: 'net', clickParams: ['cid'], postback: { url: 'https://t.example/pb?c={click_id}' } },
  ],
});

/** A ClickService whose database writes finish only when the test says so. */
function slowClicks() {
  const finish: (() => void)[] = [];
  let started = 0;
  const service = {
    extract: (query: Record<string, unknown>) => ({
      clicks: query.cid ? [{ tracker: 'net', clickId: String(query.cid), subParams: {} }] : [],
      problems: [],
    }),
    capture: () => {
      started++;
      return new Promise((resolve) => finish.push(() => resolve(undefined)));
    },
  } as unknown as ClickService;
  return { service, finish, started: () => started };
}

const landing = (cid: string) =>
  ({ query: { cid }, path: '/landing', session: {} }) as unknown as Request;

describe('ClickCaptureMiddleware', () => {
  it('lets the request go on at once and keeps the click in the session', () => {
    const clicks = slowClicks();
    const middleware = new ClickCaptureMiddleware(clicks.service, options, { now: () => 42 });
    const req = landing('abc');
    let next = false;
    middleware.use(req, {} as Response, () => (next = true));
    expect(next).toBe(true); // the write has not finished, the page is served anyway
    expect(
      (req as unknown as { session: Record<string, unknown> }).session[SESSION_CLICKS_KEY],
    ).toEqual([{ tracker: 'net', clickId: 'abc', at: 42 }]);
  });

  it('waits for writes still under way before the application shuts down', async () => {
    const clicks = slowClicks();
    const middleware = new ClickCaptureMiddleware(clicks.service, options, { now: () => 0 });
    middleware.use(landing('a'), {} as Response, () => undefined);
    middleware.use(landing('b'), {} as Response, () => undefined);
    let done = false;
    const shutdown = middleware.beforeApplicationShutdown().then(() => (done = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(done).toBe(false);
    clicks.finish.forEach((f) => f());
    await shutdown;
    expect(done).toBe(true);
  });

  it('bounds the writes waiting for the database; beyond it the click stays in the session', () => {
    const clicks = slowClicks();
    const middleware = new ClickCaptureMiddleware(clicks.service, options, { now: () => 0 });
    for (let i = 0; i <= MAX_PENDING_CLICK_WRITES; i++) {
      middleware.use(landing(`c-${i}`), {} as Response, () => undefined);
    }
    expect(clicks.started()).toBe(MAX_PENDING_CLICK_WRITES);
  });
});
