// Runs the real `inferlog` CLI (dist/, built by test/global-setup.ts) as a child process.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './peers.js';

export interface CliProcess {
  proc: ChildProcessWithoutNullStreams;
  /** Everything written to stdout so far. */
  stdout(): string;
  stderr(): string;
  /** Complete stdout lines parsed as JSON. */
  jsonLines(): Array<Record<string, unknown>>;
  /** Resolves once `pred` holds for the output, or rejects after `timeoutMs` with the output so far. */
  waitFor(pred: (p: CliProcess) => boolean, what: string, timeoutMs?: number): Promise<void>;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

export const CLI = path.join(REPO_ROOT, 'bin/inferlog.js');

/**
 * `env` adds to the environment. Unless it sets XDG_STATE_HOME, each process gets a fresh one
 * (removed when it exits): the default spool of `agent` and `up` lives there, and no test may
 * deliver what another left behind.
 */
export function runCli(args: string[], env: Record<string, string> = {}): CliProcess {
  const ownState =
    env.XDG_STATE_HOME === undefined ? mkdtempSync(path.join(tmpdir(), 'inferlog-state-')) : undefined;
  const proc = spawn(process.execPath, [CLI, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...(ownState ? { XDG_STATE_HOME: ownState } : {}), ...env },
  });
  if (ownState) proc.on('exit', () => rmSync(ownState, { recursive: true, force: true }));
  let out = '';
  let err = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const cli: CliProcess = {
    proc,
    exited,
    stdout: () => out,
    stderr: () => err,
    jsonLines: () =>
      out
        .split('\n')
        .filter((l) => l.trim().length > 0 && out.includes(l + '\n'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    async waitFor(pred, what, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pred(cli)) {
        if (proc.exitCode !== null)
          throw new Error(`inferlog exited (${proc.exitCode}) before ${what}\nstderr:\n${err}`);
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${what}\nstdout:\n${out}\nstderr:\n${err}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null) proc.kill(signal);
      return exited;
    },
  };
  return cli;
}

/** Starts a long-running command and waits for its "ready" line on stderr. */
export async function startCli(args: string[], env: Record<string, string> = {}): Promise<CliProcess> {
  const cli = runCli(args, env);
  await cli.waitFor((c) => /\bready\b/.test(c.stderr()), 'the ready line');
  return cli;
}
