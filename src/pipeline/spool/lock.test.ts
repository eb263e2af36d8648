import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claimDirectory, lockDirectory } from './lock.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'inferlog-lock-'));

describe('spool directory lock', () => {
  it('refuses a directory whose lock names a live process, and leaves that lock alone', async () => {
    const dir = tmp();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    try {
      writeFileSync(join(dir, 'lock'), String(child.pid));
      expect(() => lockDirectory(dir)).toThrow(`spool directory ${dir} is in use by process ${child.pid}`);
      expect(readFileSync(join(dir, 'lock'), 'utf8')).toBe(String(child.pid));
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('takes over a lock left by a process that is gone', () => {
    const dir = tmp();
    const gone = spawnSync(process.execPath, ['-e', 'process.exit(0)']);
    writeFileSync(join(dir, 'lock'), String(gone.pid));
    const lock = lockDirectory(dir);
    expect(readFileSync(join(dir, 'lock'), 'utf8')).toBe(String(process.pid));
    lock.release();
  });

  it('takes over a lock that is not a pid (garbage from a torn write)', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'lock'), 'not a pid');
    lockDirectory(dir).release();
  });

  it('refuses a second lock in this process until the first is released; release is idempotent', () => {
    const dir = tmp();
    const first = claimDirectory(join(dir, 'spool'));
    expect(() => lockDirectory(join(dir, 'spool'))).toThrow(/already open in this process/);
    first.release();
    expect(existsSync(join(dir, 'spool', 'lock'))).toBe(false);
    first.release();
    const second = lockDirectory(join(dir, 'spool'));
    second.release();
  });
});
