// The README's promise, run as written: its `npm start … > requests.jsonl` command gives pure
// JSONL on stdout (npm's own `> inferlog@0.1.0 start` banner would break it; issue 14, item 5).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, REPO_ROOT } from '../helpers/peers.js';

describe('npm start, as the README says to redirect it', () => {
  it('writes only JSON lines to stdout', async () => {
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const command = /`(npm start[^`]*?) > requests\.jsonl`/.exec(readme)?.[1];
    expect(command, 'the README names the command that gives pure JSONL').toBeDefined();
    const [npm, ...args] = (command as string).split(/\s+/) as [string, ...string[]];
    const port = await freePort();
    // Its own process group: npm runs `inferlog up` as a grandchild, which SIGTERM to npm alone
    // would leave running after the test.
    const proc = spawn(npm, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, PORT: String(port) },
      detached: true,
    });
    let out = '';
    let err = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    try {
      for (let i = 0; i < 600 && !err.includes('ready'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(err).toContain('ready');
      const res = await fetch(`http://127.0.0.1:${port}/v1/models/simple-model:predict`, {
        method: 'POST',
        body: '{"instances": [1.0, 2.0]}',
      });
      expect(res.status).toBe(200);
      await res.text();
      for (let i = 0; i < 100 && !out.includes('\n'); i++) await new Promise((r) => setTimeout(r, 50));
    } finally {
      process.kill(-(proc.pid as number), 'SIGTERM');
      await exited;
    }
    const lines = out.split('\n').filter((l) => l !== '');
    expect(lines.length).toBeGreaterThanOrEqual(1);
    for (const line of lines) expect(() => JSON.parse(line) as unknown, line).not.toThrow();
  });
});
