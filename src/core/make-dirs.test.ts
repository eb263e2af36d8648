import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeDirs } from './make-dirs.js';

describe('makeDirs', () => {
  it('creates every missing level and accepts an existing directory', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'inferlog-dirs-'));
    const deep = path.join(root, 'a/b/c');
    makeDirs(deep);
    makeDirs(deep);
    expect(statSync(deep).isDirectory()).toBe(true);
    rmSync(root, { recursive: true, force: true });
  });

  it('fails with the real error, promptly, where Node’s recursive mkdir would spin (/proc) or a file is in the way', () => {
    expect(() => makeDirs('/proc/inferlog-no-such/x')).toThrow(/ENOENT|EACCES|EPERM/);
    const root = mkdtempSync(path.join(tmpdir(), 'inferlog-dirs-'));
    writeFileSync(path.join(root, 'file'), '');
    expect(() => makeDirs(path.join(root, 'file/sub'))).toThrow(/ENOTDIR/);
    rmSync(root, { recursive: true, force: true });
  });
});
