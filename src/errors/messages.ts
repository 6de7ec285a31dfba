// Messages said in more than one place, so they read the same wherever a merchant meets them.

/** A name given where a configured tracker's name belongs. */
export const NOT_A_TRACKER = (name: string) => `"${name}" is not a configured tracker`;

/** Why a postback was dead-lettered once its attempts ran out. */
export const GAVE_UP = (attempts: number, last: string) =>
  `gave up after ${attempts} attempts; last: ${last}`;
