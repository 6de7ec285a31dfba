import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';

import { DatabaseUnavailableError } from '../errors/database-unavailable.error.js';
import { DatabaseWriteHealth } from './database-write-health.js';

describe('DatabaseWriteHealth', () => {
  it('is failing from the first refused write until one succeeds, logged once each way', () => {
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    try {
      const health = new DatabaseWriteHealth();
      expect(health.failure).toBeUndefined();
      for (let i = 0; i < 100; i++) health.failed(new DatabaseUnavailableError('disk full'));
      expect(health.failure).toMatchObject({
        reason: 'disk full',
        refused: 100,
        retryAfterSeconds: 5,
      });
      expect(error).toHaveBeenCalledTimes(1);
      expect(error.mock.calls[0][0]).toMatch(/cannot take writes: disk full/);
      health.succeeded();
      expect(health.failure).toBeUndefined();
      expect(log).toHaveBeenCalledTimes(1);
      expect(log.mock.calls[0][0]).toMatch(/takes writes again.*100 unit/);
    } finally {
      error.mockRestore();
      log.mockRestore();
    }
  });

  it('logs an outage starting within the interval of the last line once the interval has passed', () => {
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    try {
      let now = 1_000_000;
      const health = new DatabaseWriteHealth(() => now);
      health.failed(new DatabaseUnavailableError('disk full'));
      health.succeeded();
      // A short second outage within the minute: held back, counted.
      now += 1_000;
      health.failed(new DatabaseUnavailableError('disk full'));
      health.succeeded();
      // A third, long one: not logged at its start, but at its first failure after the minute.
      now += 1_000;
      health.failed(new DatabaseUnavailableError('server gone'));
      now += 10_000;
      health.failed(new DatabaseUnavailableError('server gone'));
      expect(error).toHaveBeenCalledTimes(1);
      now += 60_000;
      health.failed(new DatabaseUnavailableError('server gone'));
      expect(error).toHaveBeenCalledTimes(2);
      expect(error.mock.calls[1][0]).toMatch(
        /cannot take writes: server gone.*3 unit.*\(1 shorter incident/,
      );
      health.failed(new DatabaseUnavailableError('server gone'));
      expect(error).toHaveBeenCalledTimes(2);
      health.succeeded();
      expect(log.mock.calls.at(-1)?.[0]).toMatch(/takes writes again.*4 unit/);
    } finally {
      error.mockRestore();
      log.mockRestore();
    }
  });
});
