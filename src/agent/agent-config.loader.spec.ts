import { agentConfigProblems, toModuleOptions } from './agent-config.loader.js';

const file = (signing: Record<string, unknown>) => ({
  trackers: [
    {
      name: 'net',
      clickParams: ['cid'],
      postback: { url: 'https://t.example/pb?cid={click_id}&t={token}' },
      signing: { type: 'token', ...signing },
    },
  ],
});

describe('the agent config file', () => {
  it('points a mistyped secretEnv at secretEnv, not at the refused secret', () => {
    expect(agentConfigProblems(file({ secretENV: 'NET_TOKEN' }), { NET_TOKEN: 't' })).toEqual([
      'trackers[0].signing.secretENV: unknown option — did you mean "secretEnv"?',
    ]);
  });

  it('reads the environment once for the options it returns', () => {
    const reads: string[] = [];
    const environment = new Proxy({ NET_TOKEN: 't' } as NodeJS.ProcessEnv, {
      get(target, name: string) {
        reads.push(name);
        return target[name];
      },
    });
    const options = toModuleOptions(file({ secretEnv: 'NET_TOKEN' }), environment);
    expect(options.trackers[0].signing).toMatchObject({ secret: 't' });
    expect(reads.filter((name) => name === 'NET_TOKEN')).toHaveLength(1);
  });
});
