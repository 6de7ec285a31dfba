/**
 * The built-in presets' names, in the registry's order (trackers, then networks): the type of
 * `TrackerOptions.preset`, so an editor offers them and a misspelt name does not compile. A
 * preset's `name` must be one of them, and the registry must hold one preset for each (see
 * presets.spec.ts). No custom presets exist: a tracker the registry lacks is configured without one.
 */
export const PRESET_NAMES = [
  'voluum',
  'redtrack',
  'keitaro',
  'binom',
  'bemob',
  'generic',
  'everflow',
  'tune',
  'cake',
  'affise',
  'trackier',
  'scaleo',
  'offer18',
  'awin',
  'cj',
  'impact',
  'dub',
  'post-affiliate-pro',
] as const;

/** A built-in preset's name. @publicApi */
export type PresetName = (typeof PRESET_NAMES)[number];
