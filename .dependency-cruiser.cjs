// The layering of src/ (docs/internals/architecture.md draws it), checked by `npm run lint:deps`
// in `npm test` and CI so it cannot erode quietly. Type-only imports count: a type is a
// dependency a reader follows too. A unit spec may build its fixtures with the layer above
// (the options resolver, say); production code may not.
const FEATURES = '^src/(agent|cli|click|conversion|demo|options|outbox|postback|testing)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle makes load order matter and the parts inseparable.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'leaves-import-no-feature',
      severity: 'error',
      comment:
        'common/, errors/ and interfaces/ are the vocabulary everything shares; database/ is the ' +
        'engine layer under the features. None of them knows a feature or the module root.',
      from: { path: '^src/(common|database|errors|interfaces)/' },
      to: { path: [FEATURES, '^src/[^/]+\\.ts$'], pathNot: '^src/postback\\.constants\\.ts$' },
    },
    {
      name: 'errors-are-a-leaf',
      severity: 'error',
      comment: 'Errors are thrown from every layer, so they depend on none but constants.',
      from: { path: '^src/errors/' },
      to: { path: '^src/', pathNot: ['^src/errors/', '^src/postback\\.constants\\.ts$'] },
    },
    {
      name: 'rendering-knows-no-delivery',
      severity: 'error',
      comment:
        'postback/ says what a postback carries (fields, commission, rendering, signing, presets); ' +
        'sending it is outbox/, which builds on it.',
      from: { path: '^src/postback/' },
      to: { path: '^src/(outbox|conversion|click|agent|cli)/' },
    },
    {
      name: 'clicks-know-no-conversions',
      severity: 'error',
      comment: 'Attribution (conversion/) finds clicks; capture (click/) never needs a conversion.',
      from: { path: '^src/click/', pathNot: '\\.spec\\.ts$' },
      to: { path: '^src/(conversion|outbox)/' },
    },
    {
      name: 'delivery-knows-no-recording',
      severity: 'error',
      comment:
        'Recording (conversion/) writes outbox rows; delivery (outbox/) reads the conversions ' +
        'table for its queries, through the entity only.',
      from: { path: '^src/outbox/', pathNot: '\\.spec\\.ts$' },
      to: {
        path: '^src/(conversion|click)/',
        pathNot: '^src/conversion/conversion\\.entity\\.ts$',
      },
    },
    {
      name: 'rendering-takes-resolved-options-only',
      severity: 'error',
      comment: 'postback/ renders what options/ resolved (its leaf of types), and is used by it.',
      from: { path: '^src/postback/', pathNot: '\\.spec\\.ts$' },
      to: { path: '^src/options/', pathNot: '^src/options/resolved-options\\.ts$' },
    },
    {
      name: 'options-know-no-runtime',
      severity: 'error',
      comment: 'Options are resolved before anything runs; they know presets, not services.',
      from: { path: '^src/options/' },
      to: { path: '^src/(outbox|conversion|click|agent|cli|demo)/' },
    },
    {
      name: 'dto-stays-at-the-edge',
      severity: 'error',
      comment: 'A DTO validates input at the edge; inner layers take the types it produces.',
      from: {
        path: '^src/',
        pathNot: ['^src/agent/', '^src/conversion/', '^src/click/', '^src/index\\.ts$'],
      },
      to: { path: '/dto/' },
    },
    {
      name: 'library-knows-no-app',
      severity: 'error',
      comment: 'The module is a library: the agent, CLI and demo are apps built on it.',
      from: { path: '^src/', pathNot: '^src/(agent|cli|demo)/' },
      to: { path: '^src/(agent|cli|demo)/' },
    },
    {
      name: 'no-tests-in-production',
      severity: 'error',
      from: { path: '^src/', pathNot: '\\.spec\\.ts$' },
      to: { path: ['\\.spec\\.ts$', '^test/'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'A .cjs specifier names a .cts file (TypeScript maps it; the resolver cannot).',
      from: {},
      to: { couldNotResolve: true, pathNot: '\\.cjs$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|dist-bench|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.d.ts'],
    },
  },
};
