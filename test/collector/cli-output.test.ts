/**
 * What a person sees from `inferlog query`, `tail`, `collect` and `--help`, as real processes
 * (node bin/inferlog.js): both bodies for `query --id`, plain output off a terminal and with
 * NO_COLOR, hostile bytes made visible, `tail` following a collector across a restart, help text
 * in one style, unknown options reported before missing ones, and `npm run bench -- --help`.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, type CliProcess } from '../helpers/cli.js';
import { freePort, REPO_ROOT } from '../helpers/peers.js';

const BIN = join(REPO_ROOT, 'bin/inferlog.js');
const dir = mkdtempSync(join(tmpdir(), 'inferlog-cli-output-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { timeout: 60_000, env: { ...process.env, ...env } },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

function send(
  url: string,
  id: string,
  kind: 'request' | 'response',
  body: string | Uint8Array,
  extra: Record<string, string> = {},
): Promise<Response> {
  return fetch(url + '/', {
    method: 'POST',
    headers: {
      'ce-specversion': '1.0',
      'ce-id': id,
      'ce-type': `org.kubeflow.serving.inference.${kind}`,
      'ce-source': 'http://localhost:9081/',
      'ce-time': new Date().toISOString(),
      'ce-inferenceservicename': 'out-model',
      'ce-namespace': 'default',
      'content-type': 'application/json',
      ...extra,
    },
    body,
  });
}

// Each CLI run starts a node process (1–3 s on a busy 2-core machine): generous timeouts.
describe('inferlog query / tail / collect output', { timeout: 120_000 }, () => {
  let url: string;
  let port: number;
  let collect: CliProcess;
  const db = join(dir, 'out.db');
  const startCollector = (): Promise<CliProcess> =>
    startCli(['collect', '--port', String(port), '--store', `sqlite:${db}`]);

  beforeAll(async () => {
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    collect = await startCollector();
    const ok = async (r: Promise<Response>): Promise<void> => expect((await r).status).toBe(200);
    await ok(send(url, 'o-1', 'request', '{"instances":[[1,2]]}'));
    await ok(send(url, 'o-1', 'response', '{"predictions":[7]}'));
    await ok(send(url, 'o-2', 'request', '{"instances":[[3]]}'));
    await ok(
      send(url, 'o-2', 'response', '{"error":"model crashed"}', {
        'ce-statuscode': '502',
        'ce-errorcode': 'UPSTREAM_RESET',
      }),
    );
    // A binary body, and a body that tries to drive the terminal (clear screen, a fake line).
    await ok(
      send(url, 'o-3', 'request', new Uint8Array([0xff, 0xfe, 0x00, 0x01, 0x02]), {
        'content-type': 'application/octet-stream',
      }),
    );
    await ok(send(url, 'o-4', 'request', '{"x":"\u001b[2J\u001b[31mFAKE\u202e"}'));
  });
  afterAll(async () => {
    await collect.stop('SIGKILL');
  });

  it('query --id shows both bodies by default, as the README example implies', async () => {
    const r = await run(['query', '--url', url, '--id', 'o-1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('"instances"');
    expect(r.stdout).toContain('"predictions"');
    expect(r.stdout).toMatch(/REQUEST/);
    expect(r.stdout).toMatch(/RESPONSE/);
    const bin = await run(['query', '--url', url, '--id', 'o-3']);
    expect(bin.code, bin.stderr).toBe(0);
    // A binary body is summarised (size, type, a hex dump), never written raw.
    expect(bin.stdout).toMatch(/binary, 5B/);
    expect(bin.stdout).toContain('ff fe 00 01 02');
    expect(bin.stdout).not.toContain('\u00ff');
  });

  it('tables off a terminal: no colour, 120 columns, status with a short error code, binary and hostile bytes made safe', async () => {
    const r = await run(['query', '--url', url, '--model', 'out-model']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('\u001b');
    expect(r.stdout).not.toContain('\u202e');
    const lines = r.stdout.trimEnd().split('\n');
    for (const l of lines) expect([...l].length).toBeLessThanOrEqual(120);
    expect(lines[0]).toMatch(/^TIME\s+MODEL\s+ROUTE\s+STATUS\s+LATENCY\s+ID\s+REQUEST/);
    const row = (id: string): string => lines.find((l) => l.includes(` ${id} `)) ?? '';
    expect(row('o-2')).toMatch(/ 502 reset /);
    expect(row('o-3')).toMatch(/binary, 5B/);
    expect(row('o-4')).toContain('␛[2J');
    // FORCE_COLOR colours a pipe; NO_COLOR wins over a terminal only (a pipe has none anyway).
    const forced = await run(['query', '--url', url, '--model', 'out-model'], { FORCE_COLOR: '1' });
    expect(forced.stdout).toContain('\u001b[');
    const none = await run(['query', '--url', url, '--model', 'out-model'], {
      FORCE_COLOR: undefined,
      NO_COLOR: '1',
    });
    expect(none.stdout).not.toContain('\u001b');
    // COLUMNS narrows the table (as on a small terminal); the id stays whole.
    const narrow = await run(['query', '--url', url, '--model', 'out-model'], { COLUMNS: '80' });
    for (const l of narrow.stdout.trimEnd().split('\n')) expect([...l].length).toBeLessThanOrEqual(80);
    expect(narrow.stdout).toContain(' o-2 ');
  });

  it('tail prints aligned columns and keeps following across a collector restart', async () => {
    const tail = runCli(['tail', '--url', url, '--model', 'out-model', '--interval', '100ms']);
    try {
      await tail.waitFor((t) => /^TIME\s+MODEL\s+ROUTE\s+STATUS/.test(t.stdout()), 'the header');
      expect((await send(url, 't-1', 'request', '{"instances":[[10]]}')).status).toBe(200);
      expect((await send(url, 't-1', 'response', '{"predictions":[1]}')).status).toBe(200);
      await tail.waitFor((t) => t.stdout().includes('[[10]]'), 't-1');
      expect(await collect.stop('SIGTERM')).toBe(0);
      await tail.waitFor((t) => /reconnecting/.test(t.stderr()), 'a reconnecting note');
      collect = await startCollector();
      expect((await send(url, 't-2', 'request', '{"instances":[[20]]}')).status).toBe(200);
      expect((await send(url, 't-2', 'response', '{"predictions":[2]}')).status).toBe(200);
      await tail.waitFor((t) => t.stdout().includes('[[20]]'), 't-2 after the restart', 30_000);
      await tail.waitFor((t) => /reconnected to http/.test(t.stderr()), 'the reconnected note');
      const lines = tail
        .stdout()
        .trimEnd()
        .split('\n')
        .filter((l) => l.includes('[['));
      expect(lines).toHaveLength(2);
      // Aligned: the STATUS column starts at the same place on every line.
      const at = (l: string): number => l.search(/ 200 /);
      expect(at(lines[0] as string)).toBe(at(lines[1] as string));
    } finally {
      expect(await tail.stop('SIGINT')).toBe(0);
    }
  });

  it('tail | head: when the reader goes away, tail exits 0 without a stack trace', async () => {
    const tail = runCli(['tail', '--url', url, '--since', '1h', '--interval', '100ms']);
    await tail.waitFor((t) => t.stdout().includes('\n'), 'the header');
    tail.proc.stdout.destroy();
    // Something new to print, into the closed pipe.
    expect((await send(url, 'p-1', 'request', '{"instances":[[30]]}')).status).toBe(200);
    expect((await send(url, 'p-1', 'response', '{"predictions":[3]}')).status).toBe(200);
    const code = await Promise.race([
      tail.exited,
      new Promise((r) => setTimeout(() => r('running'), 20_000)),
    ]);
    if (code === 'running') await tail.stop('SIGKILL');
    expect(code).toBe(0);
    expect(tail.stderr()).not.toMatch(/EPIPE|Unhandled/);
  });

  it('collect says when it has stopped, as up and agent do', async () => {
    expect(await collect.stop('SIGTERM')).toBe(0);
    expect(collect.stderr()).toMatch(/stopped cleanly/);
    collect = await startCollector();
  });
});

const COMMANDS = ['up', 'agent', 'validate', 'collect', 'query', 'tail', 'replay', 'erase'];

/** `--help` → one entry per option: its flags and its whole (unwrapped) description. */
function optionsOf(help: string): { flags: string; description: string }[] {
  const out: { flags: string; description: string }[] = [];
  const section = help.split('\nOptions:\n')[1]?.split('\n\n')[0] ?? '';
  for (const line of section.split('\n')) {
    const m = /^ {2}(-\S.*?)(?: {2,}(.*))?$/.exec(line);
    if (m) out.push({ flags: m[1] as string, description: m[2] ?? '' });
    else if (out.length > 0) (out.at(-1) as { description: string }).description += ' ' + line.trim();
  }
  return out;
}

describe('--help', { timeout: 120_000 }, () => {
  it.each(COMMANDS)(
    '%s: every option has a description; defaults in one style, sizes in units',
    async (c) => {
      const r = await run([c, '--help']);
      expect(r.code).toBe(0);
      const options = optionsOf(r.stdout);
      expect(options.length).toBeGreaterThan(1);
      for (const o of options) {
        expect(o.description, o.flags).not.toBe('');
        // One style: "(default: 16MiB)", at the end, at most once; no JSON quotes, no raw byte counts.
        expect(o.description, o.flags).not.toMatch(/default: "|default: \[\]/);
        // A switch's `false` default is commander's, not news for the reader.
        if (!o.flags.includes('<')) expect(o.description, o.flags).not.toMatch(/default: false/);
        expect(o.description, o.flags).not.toMatch(/\(default [^:]/);
        expect(o.description.match(/default:/g)?.length ?? 0, o.flags).toBeLessThanOrEqual(1);
        expect(o.description, o.flags).not.toMatch(/\b\d{6,}\b/);
      }
    },
  );

  it('unknown options are reported before missing ones', async () => {
    const up = await run(['up', '--fiel', 'x.yaml']);
    expect(up.code).toBe(2);
    expect(up.stderr).toMatch(/unknown option '--fiel'/);
    const validate = await run(['validate', '--bogus']);
    expect(validate.code).toBe(2);
    expect(validate.stderr).toMatch(/unknown option '--bogus'/);
    // Still: a missing required option alone is reported.
    const missing = await run(['validate']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/required option '-f, --file <files...>' not specified/);
  });

  it('npm run bench -- --help prints the flags and exits 0', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--help'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/--smoke/);
    expect(r.stdout).toMatch(/--sizes/);
    expect(r.stdout).not.toMatch(/\b\d{6,}\b/);
  });
});
