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

  describe('an HMAC secret from the environment', () => {
    const hmacFile = (secretEnv: string | string[]) => ({
      trackers: [
        {
          name: 'net',
          clickParams: ['cid'],
          postback: { url: 'https://t.example/pb?cid={click_id}' },
          signing: { type: 'hmac', secretEnv },
        },
      ],
    });

    it('that is not whsec_ + base64 is named by its variable, never by its value', () => {
      const plain = 'a-plain-text-secret-of-good-length';
      const problems = agentConfigProblems(hmacFile('NET_SECRET'), { NET_SECRET: plain });
      expect(problems).toEqual([
        expect.stringMatching(
          /^tracker "net": environment variable NET_SECRET \(its signing secret\) must be "whsec_" followed by base64.*npx nestjs-postback secret/,
        ),
      ]);
      expect(problems.join('\n')).not.toContain(plain);
    });

    it('that is unset is one problem, not a second one about the stand-in', () => {
      expect(
        agentConfigProblems(hmacFile(['OLD_SECRET', 'NEW_SECRET']), {
          OLD_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        }),
      ).toEqual(['tracker "net": environment variable NEW_SECRET (its signing secret) is not set']);
    });
  });
});
