import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';

import type { NextFunction, Request, Response } from 'express';

import { InvalidInputError } from '../errors/invalid-input.error.js';
import { MAX_INPUT_DEPTH, nestsDeeperThan } from '../common/json-depth.js';
import { invalidUtf8Fields } from './invalid-utf8.js';

const NOT_UTF8 = Symbol('postback.bodyNotUtf8');

type CheckedRequest = IncomingMessage & { [NOT_UTF8]?: Buffer };

/**
 * Options for the JSON body parser. body-parser decodes bytes that are not UTF-8 as U+FFFD:
 * two order IDs that differ only in those bytes would become one, and the second answered as
 * its duplicate. `verify` sees the raw bytes first; a refusal from there would lose its
 * fields on the way out (body-parser turns it into an http-error), so it marks the request
 * and `checkJsonBody` refuses it.
 */
export function jsonBodyOptions(limit: string) {
  return {
    limit,
    verify: (req: CheckedRequest, _res: unknown, body: Buffer) => {
      if (!isUtf8(body)) req[NOT_UTF8] = body;
    },
  };
}

/**
 * Runs after the JSON body parser, before any route: refuses a body that was not UTF-8,
 * naming the field, and one nested deeper than MAX_INPUT_DEPTH (class-transformer recurses
 * per level and would fail with a RangeError, a 500), for every route that takes a body.
 */
export function checkJsonBody(req: Request, _res: Response, next: NextFunction): void {
  const notUtf8 = (req as CheckedRequest)[NOT_UTF8];
  if (notUtf8 !== undefined) return next(new InvalidInputError(invalidUtf8Fields(notUtf8)));
  if (nestsDeeperThan(req.body, MAX_INPUT_DEPTH)) {
    return next(
      new InvalidInputError({
        body: [`the body nests deeper than ${MAX_INPUT_DEPTH} levels of objects and arrays`],
      }),
    );
  }
  next();
}
