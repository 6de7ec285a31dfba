export * from './event-types.interface.js';
export * from './postback-module-options.interface.js';
export * from './retry-options.interface.js';
export * from './tracker-options.interface.js';
