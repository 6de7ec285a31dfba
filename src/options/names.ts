/** What a tracker's name may be: it is stored with every click and postback. */
export const TRACKER_NAME = /^[a-z0-9_-]{1,64}$/;
/** A landing-page query parameter, or a signing's parameter. */
export const PARAM_NAME = /^[A-Za-z0-9_.\-[\]]{1,64}$/;
/** A name in `values` and `eventValues`, usable as `{name}` and `{{name}}`. */
export const VALUE_NAME = /^[a-z_][a-z0-9_]*$/;
