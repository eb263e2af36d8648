// Small helpers shared by the CLI commands.
import type { Server } from 'node:http';
import { ConfigError } from '../config/config-error.js';

/** Listens and resolves with the bound port; rejects with a message a person can act on. */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(
        new Error(
          err.code === 'EADDRINUSE'
            ? `port ${port} on ${host} is already in use: stop the other process or pick another with --port`
            : `cannot listen on ${host}:${port}: ${err.message}`,
        ),
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

/** Prints config problems (one `FILE:LINE:COL: path: message` per line) and exits 1. */
export function exitWithConfigError(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(err.message + '\n');
    process.stderr.write(
      `inferlog: ${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}; nothing was started\n`,
    );
    process.exit(1);
  }
  throw err;
}

/**
 * `inferlog tail | head`: when the reader goes away, stop quietly (exit 0) instead of dying on an
 * unhandled EPIPE with a stack trace, as other Unix tools do.
 */
export function exitWhenStdoutCloses(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}
