import { jest } from '@jest/globals';
import { inspect } from 'node:util';

import { ConsoleLogger } from '@nestjs/common';

import { PostbackConfigurationError } from './postback-configuration.error.js';

describe('PostbackConfigurationError', () => {
  const error = new PostbackConfigurationError([
    'trackers[0].commision: unknown option — did you mean "commission"?',
    'outbox.timeoutMs must be a number',
  ]);
  const message =
    'nestjs-postback is misconfigured:\n' +
    '  - trackers[0].commision: unknown option — did you mean "commission"?\n' +
    '  - outbox.timeoutMs must be a number';

  it('says everything in its message and keeps the problems apart', () => {
    expect(error.message).toBe(message);
    expect(error.problems).toHaveLength(2);
    expect(error).toBeInstanceOf(Error);
  });

  it('inspects as its message alone: no stack trace, no dump of its fields', () => {
    expect(inspect(error)).toBe(`PostbackConfigurationError: ${message}`);
  });

  it("is printed once, without a stack trace, by Nest's logger (as a host app's start-up logs it)", () => {
    const written: string[] = [];
    const write = jest
      .spyOn(process.stderr, 'write')
      .mockImplementation((chunk: string | Uint8Array) => written.push(String(chunk)) > 0);
    try {
      new ConsoleLogger('ExceptionHandler', { colors: false }).error(error);
    } finally {
      write.mockRestore();
    }
    const output = written.join('');
    expect(output.match(/nestjs-postback is misconfigured/g)).toHaveLength(1);
    expect(output.match(/commision/g)).toHaveLength(1);
    expect(output).not.toMatch(/^ {4}at /m);
  });
});
