import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { objectStoreContract } from './object-store.contract.js';
import { openObjectStore, parseBlobUrl } from './open.js';

const dir = mkdtempSync(join(tmpdir(), 'inferlog-local-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

objectStoreContract('local directory', { open: () => openObjectStore(parseBlobUrl(dir)) });
