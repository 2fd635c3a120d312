// Proves core/ and uicc/ portable (DESIGN.md "Layers"): bundles each public
// surface for the browser and fails on any Node built-in (node:*, fs, net, …)
// reaching the bundle, or any Node global (process, Buffer, __dirname, …)
// used by our own portable sources.

import { existsSync } from 'node:fs';
import { builtinModules } from 'node:module';
import vm from 'node:vm';
import * as esbuild from 'esbuild';

const requested = process.argv.slice(2);
const entries = (
  requested.length > 0 ? requested : ['core/index.ts', 'uicc/index.ts', 'hal/index.ts']
).filter((f) => existsSync(f));
const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
const problems = [];
const POLYFILLED = new Set(['buffer', 'events']);

const refuseNode = {
  name: 'refuse-node-builtins',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      // Bare 'buffer' and 'events' resolve to their npm browser packages (installed
      // as dependencies), as every browser bundler does; 'node:' never does.
      if (POLYFILLED.has(args.path)) return undefined;
      if (args.path.startsWith('node:') || builtins.has(args.path)) {
        problems.push(`${args.importer} imports Node built-in '${args.path}'`);
        return { path: args.path, external: true };
      }
      return undefined;
    });
  },
};

for (const entry of entries) {
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [refuseNode],
  });
  for (const input of Object.keys(result.metafile.inputs)) {
    if (!input.startsWith('node_modules/') && !/^(core|uicc|hal|test\/fixtures)\//.test(input)) {
      problems.push(`${entry} pulls in ${input}, outside the portable layers`);
    }
  }
  if (problems.length === 0) loadWithoutNodeGlobals(entry);
  const ours = Object.keys(result.metafile.inputs).filter((p) => !p.startsWith('node_modules/'));
  const bytes = result.outputFiles[0].contents.length;
  console.log(
    `browser bundle ${entry}: ${bytes} bytes, ${Object.keys(result.metafile.inputs).length} modules (${ours.length} ours)`,
  );
}

/**
 * Evaluates the bundle in a context that has browser globals only (no process,
 * Buffer, require, global, __dirname): a module that touches a Node global at
 * load time fails here as it would in a browser tab.
 */
function loadWithoutNodeGlobals(entry) {
  const iife = esbuild.buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'portable',
    write: false,
    logLevel: 'silent',
  });
  const browserish = {
    console,
    TextEncoder,
    TextDecoder,
    URL,
    crypto: globalThis.crypto,
    queueMicrotask,
    setTimeout,
    clearTimeout,
    setInterval,
    clearInterval,
    Uint8Array,
    ArrayBuffer,
    DataView,
    AbortController,
    AbortSignal,
    Blob,
    Event,
    EventTarget,
    performance,
    atob,
    btoa,
    navigator: { userAgent: 'simsync-portability-check' },
    location: { protocol: 'https:', host: 'localhost', hostname: 'localhost', port: '' },
  };
  browserish.window = browserish;
  browserish.self = browserish;
  try {
    vm.runInNewContext(iife.outputFiles[0].text, browserish, { filename: `${entry}.browser.js` });
  } catch (e) {
    problems.push(`${entry} fails to load without Node globals: ${e.message}`);
  }
}

if (problems.length > 0) {
  console.error(`browser bundle: ${problems.length} portability problem(s):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
