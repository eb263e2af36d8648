/**
 * What `npm pack` ships is a working inferlog: the CLI, the compiled code and the web UI,
 * with nothing that points back into the source tree. The test packs the real tarball,
 * unpacks it in a temporary folder (dependencies linked, as an install would provide them),
 * starts `inferlog collect` from there and loads the UI.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, REPO_ROOT } from '../helpers/peers.js';

const work = mkdtempSync(path.join(tmpdir(), 'inferlog-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function npm(args: string[], cwd: string): string {
  // --ignore-scripts: dist/ is already built by the test run's global setup.
  return execFileSync('npm', [...args, '--ignore-scripts', '--silent'], { cwd, encoding: 'utf8' });
}

describe('npm pack', { timeout: 120_000 }, () => {
  it('ships bin, dist with the UI, and no sources or tests', () => {
    const [pack] = JSON.parse(npm(['pack', '--dry-run', '--json'], REPO_ROOT)) as Array<{
      files: Array<{ path: string }>;
    }>;
    const files = new Set(pack!.files.map((f) => f.path));
    expect(files).toContain('bin/inferlog.js');
    expect(files).toContain('dist/cli/main.js');
    const uiFiles = readdirSync(path.join(REPO_ROOT, 'src/collector/ui')).filter(
      (f) => !f.startsWith('tsconfig'),
    );
    for (const f of uiFiles) expect(files, f).toContain(`dist/collector/ui/${f}`);
    const stray = [...files].filter((f) => /^(src|test|bench)\//.test(f) || /\.(contract|test)\.js$/.test(f));
    expect(stray).toEqual([]);
  });

  it('installed elsewhere, `inferlog collect` serves its web UI', async () => {
    const tarball = npm(['pack', '--pack-destination', work], REPO_ROOT).trim().split('\n').pop()!;
    execFileSync('tar', ['-xzf', path.join(work, tarball), '-C', work]);
    const root = path.join(work, 'package');
    symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(root, 'node_modules'));
    const port = await freePort();
    const proc = spawn(
      process.execPath,
      [
        path.join(root, 'bin/inferlog.js'),
        'collect',
        '--port',
        String(port),
        '--store',
        `sqlite:${path.join(work, 'c.db')}`,
      ],
      { cwd: work, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    try {
      let stderr = '';
      proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const deadline = Date.now() + 30_000;
      while (!/\bready\b/.test(stderr)) {
        if (proc.exitCode !== null) throw new Error(`collect exited ${proc.exitCode}:\n${stderr}`);
        if (Date.now() > deadline) throw new Error(`collect did not get ready:\n${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const page = await fetch(`http://127.0.0.1:${port}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<script[^>]+src=/);
      const css = await fetch(`http://127.0.0.1:${port}/app.css`);
      expect(css.status).toBe(200);
    } finally {
      proc.kill('SIGTERM');
    }
  });
});
