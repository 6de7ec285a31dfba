import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { Request, Response } from 'express';

import { resolvePostbackOptions } from '../options/resolve-options.js';
import { ClickCaptureMiddleware } from './click-capture.middleware.js';
import type { Click } from './click.entity.js';
import type { ClickService } from './click.service.js';
import type { ClickWriteBuffer } from './click-write-buffer.js';
import { SESSION_CLICKS_KEY } from '../postback.constants.js';

const options = resolvePostbackOptions({
  trackers: [
    { name: 'net', clickParams: ['cid'], postback: { url: 'https://t.example/pb?c={click_id}' } },
  ],
  capture: { customerId: (req) => req.header?.('x-customer') },
});

/** A ClickService that prepares rows as the real one does, without a database. */
const clicks = {
  landingRow: (
    click: Record<string, unknown>,
    visitorKey?: string,
    customerId?: string,
    landingPath?: string,
  ) => {
    if (customerId === 'bad') throw new Error('customerId is too long');
    return { ...click, visitorKey, customerId, landingPath } as unknown as Click;
  },
} as unknown as ClickService;

function bufferThat(accepts: boolean) {
  const added: Click[] = [];
  const buffer = {
    add: (row: Click) => {
      added.push(row);
      return accepts;
    },
  } as unknown as ClickWriteBuffer;
  return { buffer, added };
}

const landing = (cid: string, customer?: string, method = 'GET') =>
  ({
    method,
    url: `/landing?cid=${cid}`,
    query: { cid },
    path: '/landing',
    session: {},
    header: (name: string) => (name === 'x-customer' ? customer : undefined),
  }) as unknown as Request;

const sessionOf = (req: Request) =>
  (req as unknown as { session: Record<string, unknown> }).session[SESSION_CLICKS_KEY];

describe('ClickCaptureMiddleware', () => {
  it('keeps the click in the session, queues its row and lets the request go on', () => {
    const { buffer, added } = bufferThat(true);
    const middleware = new ClickCaptureMiddleware(clicks, buffer, options, { now: () => 42 });
    const req = landing('abc', 'cust-1');
    let next = false;
    middleware.use(req, {} as Response, () => (next = true));
    expect(next).toBe(true);
    expect(sessionOf(req)).toEqual([{ tracker: 'net', clickId: 'abc', at: 42 }]);
    expect(added).toEqual([
      expect.objectContaining({
        tracker: 'net',
        clickId: 'abc',
        customerId: 'cust-1',
        landingPath: '/landing',
      }),
    ]);
  });

  it('keeps the click in the session when the buffer refuses it, and serves the page', () => {
    const { buffer } = bufferThat(false);
    const middleware = new ClickCaptureMiddleware(clicks, buffer, options, { now: () => 7 });
    const req = landing('full');
    let next = false;
    middleware.use(req, {} as Response, () => (next = true));
    expect(next).toBe(true);
    expect(sessionOf(req)).toEqual([{ tracker: 'net', clickId: 'full', at: 7 }]);
  });

  it('serves the page and keeps the session click when the row cannot be built', () => {
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const { buffer, added } = bufferThat(true);
    const middleware = new ClickCaptureMiddleware(clicks, buffer, options, { now: () => 1 });
    const req = landing('abc', 'bad');
    let next = false;
    middleware.use(req, {} as Response, () => (next = true));
    expect(next).toBe(true);
    expect(added).toEqual([]);
    expect(sessionOf(req)).toEqual([{ tracker: 'net', clickId: 'abc', at: 1 }]);
    expect(error).toHaveBeenCalledWith(expect.stringMatching(/customerId is too long/));
    error.mockRestore();
  });
  it('captures from GET and HEAD requests only, by default, and lets every request go on', () => {
    const { buffer, added } = bufferThat(true);
    const middleware = new ClickCaptureMiddleware(clicks, buffer, options, { now: () => 1 });
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'HEAD', 'GET']) {
      let next = false;
      middleware.use(
        landing(`c-${method}`, undefined, method),
        {} as Response,
        () => (next = true),
      );
      expect(next).toBe(true);
    }
    expect(added.map((row) => row.clickId)).toEqual(['c-HEAD', 'c-GET']);
  });

  it('captures on whatever methods the routes the host chose take', () => {
    const { buffer, added } = bufferThat(true);
    const chosen = resolvePostbackOptions({
      trackers: [
        {
          name: 'net',
          clickParams: ['cid'],
          postback: { url: 'https://t.example/pb?c={click_id}' },
        },
      ],
      capture: { routes: ['landing'] },
    });
    const middleware = new ClickCaptureMiddleware(clicks, buffer, chosen, { now: () => 1 });
    middleware.use(landing('posted', undefined, 'POST'), {} as Response, () => undefined);
    expect(added.map((row) => row.clickId)).toEqual(['posted']);
  });

  it('logs what became of each thing a landing left out, and captures the click it took', () => {
    const { buffer, added } = bufferThat(true);
    const two = resolvePostbackOptions({
      trackers: ['net', 'other'].map((name) => ({
        name,
        clickParams: [name === 'net' ? 'cid' : 'ocid'],
        subParams: ['sub'],
        postback: { url: `https://${name}.example/pb?c={click_id}` },
      })),
    });
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const middleware = new ClickCaptureMiddleware(clicks, buffer, two, { now: () => 1 });
    const req = { ...landing('abc'), url: '/landing?cid=abc&ocid=xyz&sub=%E2%80%8B' };
    middleware.use(req as Request, {} as Response, () => undefined);
    expect(added.map((row) => row.clickId)).toEqual(['abc']);
    expect(warn.mock.calls.map(([line]) => line)).toEqual([
      expect.stringMatching(/^Landing on \/landing: sub-parameter "sub" .*; left out$/),
      expect.stringMatching(
        /^Landing on \/landing: the click ID of tracker "other" was ignored: .*\("net"\)$/,
      ),
    ]);
    warn.mockRestore();
  });
});
