/**
 * Child processes of one bench run: spawn, wait until they listen, and always stop them.
 *
 *   run.ts ──spawn──▶ ProcessGroup ──detached child (own process group)──▶ logs/<name>.log
 *                          │
 *            exit / SIGINT / SIGTERM / error ──▶ kill every group (SIGTERM, then SIGKILL)
 *
 * Each child leads its own process group, so a child that forks (nginx workers) is
 * stopped with everything under it. A synchronous `exit` hook kills whatever is left,
 * so an exception or Ctrl-C never leaves a server holding a port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';

export interface SpawnOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Where the child's stdout goes: a file path, or nowhere. */
  stdoutPath?: string;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  readonly exited: Promise<string>;
  hasExited(): boolean;
  /** The last lines of its stderr, for error messages. */
  tail(lines?: number): string;
}

export class ProcessGroup {
  private readonly children = new Set<ChildProcess>();
  private readonly onExit = (): void => this.killAllNow();

  constructor(private readonly logDir: string) {
    process.on('exit', this.onExit);
  }

  spawn(name: string, command: string, args: readonly string[], options: SpawnOptions = {}): ManagedProcess {
    const logPath = join(this.logDir, `${name}.log`);
    const errFd = openSync(logPath, 'a');
    const outFd = options.stdoutPath ? openSync(options.stdoutPath, 'a') : 'ignore';
    const child = spawn(command, args, {
      cwd: options.cwd,
      // Default spools (inferlog agent / up without --spool-dir) go to the run's temporary directory,
      // removed with it, never to the user's ~/.local/state.
      env: options.env ?? { ...process.env, XDG_STATE_HOME: join(this.logDir, '..', 'state') },
      stdio: ['ignore', outFd, errFd],
      detached: true,
    });
    closeSync(errFd);
    if (typeof outFd === 'number') closeSync(outFd);
    if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
    this.children.add(child);
    let done = false;
    const exited = new Promise<string>((resolve) => {
      child.once('exit', (code, signal) => {
        done = true;
        this.children.delete(child);
        resolve(signal ?? String(code));
      });
      child.once('error', (err) => {
        done = true;
        this.children.delete(child);
        resolve(`error: ${err.message}`);
      });
    });
    const pid = child.pid;
    return {
      name,
      pid,
      logPath,
      exited,
      hasExited: () => done,
      tail: (lines = 20) => tailOf(logPath, lines),
    };
  }

  /** Stops one process (and its group): SIGTERM, then SIGKILL after `graceMs`. */
  async stop(p: ManagedProcess, graceMs = 5000): Promise<void> {
    if (p.hasExited()) return;
    signalGroup(p.pid, 'SIGTERM');
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
    if ((await Promise.race([p.exited, timer])) === 'timeout') {
      signalGroup(p.pid, 'SIGKILL');
      await p.exited;
    }
  }

  async stopAll(): Promise<void> {
    await Promise.all(
      [...this.children].map(async (c) => {
        if (c.pid === undefined) return;
        signalGroup(c.pid, 'SIGTERM');
        const gone = new Promise<void>((r) => c.once('exit', () => r()));
        const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5000).unref());
        if ((await Promise.race([gone, timer])) === 'timeout') signalGroup(c.pid, 'SIGKILL');
      }),
    );
  }

  /** Synchronous last resort for the `exit` hook. */
  killAllNow(): void {
    for (const c of this.children) if (c.pid !== undefined) signalGroup(c.pid, 'SIGKILL');
    this.children.clear();
  }

  dispose(): void {
    process.off('exit', this.onExit);
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

function tailOf(path: string, lines: number): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Polls until 127.0.0.1:port accepts a TCP connection; fails early if the process dies. */
export async function waitForPort(
  port: number,
  proc: ManagedProcess | undefined,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc?.hasExited()) {
      throw new Error(`${proc.name} exited before listening on ${port}:\n${proc.tail()}`);
    }
    if (await canConnect(port)) return;
    if (Date.now() > deadline) {
      throw new Error(
        `${proc?.name ?? 'server'} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms\n${proc?.tail() ?? ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Polls the process's stderr log until a line matches: for a primary that forks workers, the
 * port answers once the first worker listens, but it is ready only when it says so.
 */
export async function waitForLine(proc: ManagedProcess, pattern: RegExp, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (
      proc
        .tail(200)
        .split('\n')
        .some((l) => pattern.test(l))
    )
      return;
    if (proc.hasExited()) throw new Error(`${proc.name} exited before it was ready:\n${proc.tail()}`);
    if (Date.now() > deadline)
      throw new Error(`${proc.name} printed no ${pattern} within ${timeoutMs} ms\n${proc.tail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
