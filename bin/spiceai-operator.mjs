#!/usr/bin/env node
// Runs the TypeScript CLI from source through tsx; the bundled build
// (npm run build) produces a single file that needs neither.
import { register } from 'tsx/esm/api';

register();
await import('../shim/cli/main.ts');
