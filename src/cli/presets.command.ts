import type { PostbackPreset } from '../postback/presets/index.js';
import { POSTBACK_PRESETS } from '../postback/presets/index.js';

/**
 * `presets [name]`: every built-in preset, or one, with what `build --preset` needs for it:
 * the values to give, the secret and where it comes from, the currency when the network reads
 * amounts in its own. Unknown name: undefined (the caller says so).
 */
export function presetsText(name?: string): string | undefined {
  if (name !== undefined) {
    const preset = POSTBACK_PRESETS.get(name);
    return preset && presetText(preset);
  }
  const trackers = [...POSTBACK_PRESETS.values()].filter((p) => p.role === 'tracker');
  const networks = [...POSTBACK_PRESETS.values()].filter((p) => p.role === 'network');
  return [
    'Tracking services (the shop reports to its own tracker):',
    ...trackers.map(presetText),
    'Affiliate networks:',
    ...networks.map(presetText),
    'Try one: nestjs-postback build --preset NAME --value name=value … [--token-env VAR]',
  ].join('\n\n');
}

function presetText(preset: PostbackPreset): string {
  const rows: [flag: string, meaning: string][] = [];
  for (const [value, meaning] of Object.entries(preset.placeholders)) {
    rows.push([`--value ${value}=…`, meaning]);
  }
  for (const [value, fallback] of Object.entries(preset.defaults ?? {})) {
    rows.push([`--value ${value}=…`, `optional (default "${fallback}")`]);
  }
  const auth = preset.auth;
  if (auth?.type === 'basic') rows.push(['--username …', auth.username ?? 'the user name']);
  if (auth) {
    const scheme = auth.type === 'basic' ? 'HTTP Basic' : 'Bearer';
    rows.push(['--token-env VAR', `the variable holding the ${auth.secret} (${scheme})`]);
  } else if (preset.token) {
    const where = preset.token.param ? ` (sent as ${preset.token.param})` : '';
    const need = preset.token.required ? 'required' : 'if the network gave you one';
    rows.push(['--token-env VAR', `the variable holding the security token${where}, ${need}`]);
  }
  if (preset.amountsIn) rows.push(['--currency CODE', preset.amountsIn]);
  const width = Math.max(0, ...rows.map(([flag]) => flag.length));
  return [
    `${preset.name} — ${preset.title}`,
    ...rows.map(([flag, meaning]) => `  ${flag.padEnd(width)}  ${meaning}`),
  ].join('\n');
}
