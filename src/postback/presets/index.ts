import { NETWORK_PRESETS } from './network.presets.js';
import type { PostbackPreset } from './postback-preset.interface.js';
import { TRACKER_PRESETS } from './tracker.presets.js';

export type { PostbackPreset } from './postback-preset.interface.js';
export { PRESET_NAMES, type PresetName } from '../../common/preset-names.js';

/** Every built-in preset, by name. @publicApi */
export const POSTBACK_PRESETS: ReadonlyMap<string, PostbackPreset> = new Map(
  [...TRACKER_PRESETS, ...NETWORK_PRESETS].map((preset) => [preset.name, preset]),
);
