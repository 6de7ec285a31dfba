import { isLoopbackHost, isLoopbackUrl } from './loopback.js';

describe('isLoopbackUrl', () => {
  it.each([
    'http://127.0.0.1/',
    'http://127.0.0.1:8080/track',
    'http://127.9.8.7/',
    'http://127.1/',
    'http://localhost:3000/',
    'http://LOCALHOST/',
    'http://[::1]:8080/',
    'http://[0:0:0:0:0:0:0:1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
  ])('%s is loopback', (url) => {
    expect(isLoopbackUrl(url)).toBe(true);
  });

  it.each([
    'http://127.attacker.example/',
    'http://127.0.0.1.evil.example/',
    'http://localhost.evil.example/',
    'http://evil-localhost/',
    'http://128.0.0.1/',
    'http://10.0.0.1/',
    'http://[::ffff:8.8.8.8]/',
    'http://[::2]/',
    'not a url',
  ])('%s is not loopback', (url) => {
    expect(isLoopbackUrl(url)).toBe(false);
  });
});

describe('isLoopbackHost', () => {
  it('reads bare addresses, bracketed IPv6 and the exact name localhost', () => {
    expect(
      ['127.0.0.1', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1'].map(isLoopbackHost),
    ).toEqual([true, true, true, true, true]);
    expect(
      ['0.0.0.0', '::', '127.evil.example', '127.0.0.1.evil.example'].map(isLoopbackHost),
    ).toEqual([false, false, false, false]);
  });
});
