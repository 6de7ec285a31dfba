import { listenHost, loadAgentEnv, withoutCredentials } from './agent-env.js';

describe('loadAgentEnv', () => {
  it('listens on loopback without an API key, everywhere with one', () => {
    expect(listenHost(loadAgentEnv({}))).toBe('127.0.0.1');
    expect(listenHost(loadAgentEnv({ POSTBACK_API_KEY: 'k'.repeat(16) }))).toBe('0.0.0.0');
  });

  it('refuses to expose the API beyond loopback without a key', () => {
    expect(() => loadAgentEnv({ HOST: '0.0.0.0' })).toThrow(/would expose the API without a key/);
    expect(() => loadAgentEnv({ HOST: '127.0.0.1' })).not.toThrow();
  });

  it('names every problem at once, never a value', () => {
    expect(() =>
      loadAgentEnv({ PORT: 'eighty', POSTBACK_API_KEY: 'short', SQLITE_SYNCHRONOUS: 'OFF' }),
    ).toThrow(
      /PORT[\s\S]*POSTBACK_API_KEY must be at least 16 characters[\s\S]*SQLITE_SYNCHRONOUS/,
    );
    try {
      loadAgentEnv({ POSTBACK_API_KEY: 'short-secret' });
    } catch (error) {
      expect((error as Error).message).not.toContain('short-secret');
    }
  });
});

describe('withoutCredentials', () => {
  it.each([
    ['postgres://app:p@ss:w0rd@db.internal/shop', 'postgres://app:***@db.internal/shop'],
    ['mysql://root@127.0.0.1:3306/test', 'mysql://root@127.0.0.1:3306/test'],
    [
      'postgres://db/shop?sslmode=require&password=hunter22',
      'postgres://db/shop?sslmode=require&password=***',
    ],
    ['sqlite:./data/postback.sqlite', 'sqlite:./data/postback.sqlite'],
  ])('%s is logged as %s', (url, logged) => {
    expect(withoutCredentials(url)).toBe(logged);
  });
});
