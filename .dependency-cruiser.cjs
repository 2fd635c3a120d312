/**
 * The layering of DESIGN.md ("Layers"), checked by a tool rather than by eye.
 * `npm run layers` fails on any violation; test/portability.test.ts proves each
 * rule fires on a deliberately bad import in test/fixtures/layering/.
 */
/** npm packages the portable layers may use: pure JS, browser-safe. */
/** Tests compose layers freely; the rules are about product code. */
const TEST = '\\.test\\.ts$';
const PORTABLE_LIBS = '^node_modules/(mqtt|cborg|zod|readable-stream|events|buffer)/';

module.exports = {
  forbidden: [
    {
      name: 'hal-imports-nothing',
      comment: 'hal/ is interfaces and error types only: it may import nothing outside itself.',
      severity: 'error',
      from: { path: '^hal/', pathNot: TEST },
      to: { pathNot: '^hal/' },
    },
    {
      name: 'uicc-imports-only-hal',
      comment:
        'uicc/ is the portable APDU layer and the SimCard every card HAL hands out: itself, hal/ (which imports nothing, so no cycle) and portable libraries.',
      severity: 'error',
      from: { path: '^uicc/', pathNot: TEST },
      to: { pathNot: ['^(uicc|hal)/', PORTABLE_LIBS] },
    },
    {
      name: 'core-is-portable',
      comment:
        'core/ may import hal/, uicc/ and portable libraries only (no node: modules, no hal-*, no broker/).',
      severity: 'error',
      from: { path: '^core/', pathNot: TEST },
      to: { pathNot: ['^(core|hal|uicc)/', PORTABLE_LIBS] },
    },
    {
      name: 'no-node-builtins-in-portable-layers',
      severity: 'error',
      from: { path: '^(core|uicc|hal)/', pathNot: TEST },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'hal-impl-isolated',
      comment: 'A hal-* implementation may not import another hal-*, core/, broker/ or cli/.',
      severity: 'error',
      from: { path: '^(hal-[a-z]+)/', pathNot: TEST },
      to: { path: '^(hal-[a-z]+|core|broker|cli)/', pathNot: '^$1/' },
    },
    {
      name: 'broker-uses-only-core-protocol',
      comment:
        'broker/ may use core/protocol (the shared wire module) and uicc/aka (the network side of USIM AKA), and nothing else of core/, uicc/ or the HALs.',
      severity: 'error',
      from: { path: '^broker/', pathNot: TEST },
      to: { path: '^(core/(?!protocol/)|uicc/(?!aka/)|hal-[a-z]+/|cli/)' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
