// Jest resolver: an import of `./x.cjs` whose file does not exist is the TypeScript source
// `./x.cts` (tsc emits one from the other), as `./x.js` is `./x.ts` through moduleNameMapper.
// Files under node_modules that import real .cjs files resolve as usual.
module.exports = (request, options) => {
  try {
    return options.defaultResolver(request, options);
  } catch (error) {
    if (!/^\.{1,2}\/.*\.cjs$/.test(request)) throw error;
    return options.defaultResolver(request.replace(/\.cjs$/, '.cts'), options);
  }
};
