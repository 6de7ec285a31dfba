// The module's options live in src/options/ (schema per part, resolver, messages); this path
// stays for the code that imports them from here.
export { BUILT_IN_MACROS } from './options/macros.js';
export { postbackOptionProblems, resolvePostbackOptions } from './options/resolve-options.js';
export {
  DEFAULT_RETRY,
  postsEvent,
  type ResolvedOutboxOptions,
  type ResolvedPostbackOptions,
  type ResolvedTracker,
} from './options/resolved-options.js';
