// Small helpers shared by the CLI commands.
import type { Server } from 'node:http';
import { InferlogError, isInferlogError } from '../core/errors.js';
import { EXIT_CODES } from './exit-codes.js';

/** Listens and resolves with the bound port; rejects with LISTEN_FAILED and a message a person can act on. */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(
        new InferlogError(
          'LISTEN_FAILED',
          err.code === 'EADDRINUSE'
            ? `port ${port} on ${host} is already in use: stop the other process or pick another with --port`
            : `cannot listen on ${host}:${port}: ${err.message}`,
          { cause: err },
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

/** Prints config problems (one `FILE:LINE:COL: path: message` per line) and exits 1 (CONFIG_INVALID). */
export function exitWithConfigError(err: unknown): never {
  if (isInferlogError(err, 'CONFIG_INVALID')) {
    const n = typeof err.details.problems === 'number' ? err.details.problems : 1;
    process.stderr.write(err.message + '\n');
    process.stderr.write(`inferlog: ${n} problem${n === 1 ? '' : 's'}; nothing was started\n`);
    process.exit(EXIT_CODES[err.code]);
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
