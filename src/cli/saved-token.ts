/**
 * Where `inferlog login` keeps the token it got, for `query`, `tail` and `replay` to send.
 *
 *   $XDG_CONFIG_HOME/inferlog/token (else ~/.config/inferlog/token): the bearer token alone, one
 *   line, mode 0600 in a 0700 directory that is this user's own, written by rename (never half a token)
 *
 * Only the token is stored: no client secret exists (public client, PKCE), and no refresh token is
 * kept on disk, so a stolen file is worth one token's lifetime.
 */
import { closeSync, constants, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { InferlogError } from '../core/errors.js';
import { makeDirs } from '../core/make-dirs.js';
import { assertOwnDirectory, openPrivateSync } from '../core/private-files.js';

/** inferlog's config directory: `$XDG_CONFIG_HOME/inferlog`, else `$HOME/.config/inferlog`. */
export function configHome(env: NodeJS.ProcessEnv = process.env): string | undefined {
  // The XDG spec: a relative path in XDG_CONFIG_HOME is invalid and must be ignored.
  const xdg = env.XDG_CONFIG_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'inferlog');
  const home = env.HOME;
  if (home && path.isAbsolute(home)) return path.join(home, '.config', 'inferlog');
  return undefined;
}

/** The token file `inferlog login` writes by default, and the CLI clients read when given none. */
export function defaultTokenFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = configHome(env);
  return dir === undefined ? undefined : path.join(dir, 'token');
}

/** Writes `token` to `file` (0600, own 0700 directory, atomically); throws UNSAFE_PATH / OUTPUT_UNWRITABLE. */
export function saveToken(file: string, token: string): void {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    makeDirs(dir, 0o700);
  } catch (err) {
    throw new InferlogError('OUTPUT_UNWRITABLE', `cannot create ${dir}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  // Whoever can write to the directory could swap the file for their own token.
  assertOwnDirectory(dir, 'token directory');
  try {
    const fd = openPrivateSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL);
    try {
      writeSync(fd, `${token}\n`);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // Nothing was created, or it is already gone: the error below is what matters.
    }
    if (err instanceof InferlogError) throw err;
    throw new InferlogError('OUTPUT_UNWRITABLE', `cannot write ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** The token saved in `file`, or undefined when there is none. */
export function readSavedToken(file: string): string | undefined {
  try {
    const text = readFileSync(file, 'utf8').trim();
    return text === '' ? undefined : text;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
