#!/usr/bin/env node
// Runs the compiled command in dist/ (scripts/build.mjs; `npm install` builds
// it). In a clone whose sources are newer than dist/, it rebuilds first, so
// the command never runs stale code.
import { build, isFresh } from '../scripts/build.mjs';

// -v prints where an error came from: in the sources, not the bundle.
process.setSourceMapsEnabled(true);

if (!isFresh()) await build();
await import('../dist/main.js');
