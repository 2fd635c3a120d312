#!/usr/bin/env node
// `npm run bench -- <name> [options]`: runs bench/<name>.ts with tsx.
import { register } from 'tsx/esm/api';

register();
await import('../bench/main.ts');
