import { judgeAttempt } from './delivery-verdict.js';
import { resolvePostbackOptions } from '../options/resolve-options.js';
import { POSTBACK_PRESETS, type PresetName } from '../postback/presets/index.js';

/**
 * For every preset that reads the answer's body: the values it needs, the answers the network
 * gives on success (networks.md), and refusals that quote the success text.
 */
const ANSWERS: Record<
  string,
  { values: Record<string, string>; success: string[]; refusals: string[] }
> = {
  tune: {
    values: { network_id: 'acme', offer_id: '7' },
    success: ['success=true;', 'success=true', ' success=true; \n', 'success=true;conversion_id=9'],
    refusals: [
      'success=false; err_msg=expected success=true',
      'success=false; err_msg=success=true;',
      'err_msg=success=true;',
      'xsuccess=true;',
      'success=trueish;',
      'success=false;',
      '',
    ],
  },
};

function trackerOf(preset: string) {
  const options = resolvePostbackOptions({
    trackers: [{ name: 'net', preset: preset as PresetName, values: ANSWERS[preset].values }],
  });
  return options.trackers.get('net')!;
}

describe("presets' success answers", () => {
  it('lists every preset that reads the body', () => {
    const reading = [...POSTBACK_PRESETS.values()]
      .filter((preset) => preset.successBodyMatch !== undefined)
      .map((preset) => preset.name);
    expect(reading.sort()).toEqual(Object.keys(ANSWERS).sort());
  });

  describe.each(Object.keys(ANSWERS))('%s', (preset) => {
    it.each(ANSWERS[preset].success)('delivers on %j', (body) => {
      const verdict = judgeAttempt({ status: 200, body, durationMs: 1 }, 1, trackerOf(preset), 0);
      expect(verdict).toEqual({ outcome: 'delivered' });
    });

    it.each(ANSWERS[preset].refusals)('does not deliver on %j', (body) => {
      const verdict = judgeAttempt({ status: 200, body, durationMs: 1 }, 1, trackerOf(preset), 0);
      expect(verdict.outcome).toBe('dead');
    });
  });
});
