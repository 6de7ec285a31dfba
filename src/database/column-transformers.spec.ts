import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';

import { jsonText } from './column-transformers.js';

describe('jsonText', () => {
  it('stores JSON text and reads it back', () => {
    const stored = jsonText.to({ sub1: 'a&b', n: 1 }) as string;
    expect(jsonText.from(stored)).toEqual({ sub1: 'a&b', n: 1 });
    expect(jsonText.to(null)).toBeNull();
    expect(jsonText.from(null)).toBeNull();
  });

  it('reads text that does not parse as absent, and warns without logging the text', () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      expect(jsonText.from('{"clickId": "secret-looking')).toBeNull();
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toMatch(/do not parse/);
      expect(String(warn.mock.calls[0][0])).not.toContain('secret-looking');
    } finally {
      warn.mockRestore();
    }
  });
});
