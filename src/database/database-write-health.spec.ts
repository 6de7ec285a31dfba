import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';

import { DatabaseUnavailableError } from './database-unavailable.error.js';
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
      // A second outage soon after: counted, not logged again within the interval.
      health.failed(new DatabaseUnavailableError('disk full'));
      expect(health.failure).toBeDefined();
      expect(error).toHaveBeenCalledTimes(1);
    } finally {
      error.mockRestore();
      log.mockRestore();
    }
  });
});
