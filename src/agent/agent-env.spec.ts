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

describe('the bearer keys', () => {
  const key = 'k'.repeat(16);
  const problemsOf = (environment: NodeJS.ProcessEnv): string => {
    try {
      loadAgentEnv(environment);
    } catch (error) {
      return (error as Error).message;
    }
    return '';
  };

  it.each([
    ['POSTBACK_API_KEY', ''],
    ['POSTBACK_API_KEY', ' '.repeat(20)],
    ['POSTBACK_ADMIN_KEY', '\t\n  '],
  ])('refuses %s set to %j, naming the variable and the fix', (name, value) => {
    const message = problemsOf({ [name]: value });
    expect(message).toMatch(new RegExp(`${name} is set but (empty|only whitespace): set a key`));
    // One message for the blank key, not a length rule too.
    expect(message).not.toMatch(/at least 16 characters$/m);
  });

  it('refuses a key with leading or trailing whitespace, which no client can send', () => {
    expect(problemsOf({ POSTBACK_API_KEY: `${key}\n` })).toMatch(
      /POSTBACK_API_KEY starts or ends with whitespace/,
    );
  });

  it('refuses an admin key equal to the API key, and accepts distinct keys', () => {
    expect(problemsOf({ POSTBACK_API_KEY: key, POSTBACK_ADMIN_KEY: key })).toMatch(
      /POSTBACK_ADMIN_KEY is the same as POSTBACK_API_KEY[\s\S]*own value/,
    );
    expect(problemsOf({ POSTBACK_API_KEY: key, POSTBACK_ADMIN_KEY: 'a'.repeat(16) })).toBe('');
  });
});
