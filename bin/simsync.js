#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx), so `simsync` works from a clone with no build step.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
