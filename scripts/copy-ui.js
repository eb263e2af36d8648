#!/usr/bin/env node
// Build step after tsc: copies the web UI (plain files, no bundler) next to the compiled
// collector, so dist/ is complete on its own and a packed tarball serves the UI.
//   src/collector/ui/** ──copy──▶ dist/collector/ui/**   (stale files removed first)
import { cpSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const from = fileURLToPath(new URL('../src/collector/ui/', import.meta.url));
const to = fileURLToPath(new URL('../dist/collector/ui/', import.meta.url));
rmSync(to, { recursive: true, force: true });
// tsconfig files only check the UI; they are not part of what the browser loads.
cpSync(from, to, { recursive: true, filter: (src) => !/tsconfig[^/]*\.json$/.test(src) });
