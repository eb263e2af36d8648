/**
 * Files that hold captured traffic (spool, file sink, SQLite store) are private to the process:
 * 0600 files in 0700 directories, never reached through a symbolic link someone planted.
 *
 *   assertOwnDirectory(dir) ── owner = euid, not group/world-writable? ──▶ ok | UNSAFE_PATH
 *   openPrivateSync(path)   ── open(O_NOFOLLOW, 0600) + fchmod 0600 ──────▶ fd | UNSAFE_PATH (a symlink)
 *
 * The directory check is PostgreSQL's for its data directory: whoever can write to the directory
 * can swap any file in it, so O_NOFOLLOW alone would only narrow the window.
 */
import { constants, fchmodSync, openSync, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { InferlogError } from './errors.js';

export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

const { O_NOFOLLOW } = constants;

const octal = (mode: number): string => '0' + (mode & 0o777).toString(8).padStart(3, '0');

/**
 * Throws UNSAFE_PATH unless `dir` is a directory owned by this process's effective uid that
 * neither its group nor others can write to. `what` names it in the message ("spool directory").
 */
export function assertOwnDirectory(dir: string, what: string): void {
  const st = statSync(dir);
  const euid = process.geteuid?.();
  if (euid === undefined) return; // Windows: no uids; the ACLs are the operator's business
  if (st.uid !== euid) {
    throw new InferlogError(
      'UNSAFE_PATH',
      `${what} ${dir} is owned by uid ${st.uid}, not by this process (uid ${euid}): ` +
        `run \`chown ${euid} ${dir}\` and \`chmod 700 ${dir}\`, or point it at a directory of its own ` +
        `(a missing one is created with mode 0700)`,
    );
  }
  if ((st.mode & 0o022) !== 0) {
    throw new InferlogError(
      'UNSAFE_PATH',
      `${what} ${dir} has mode ${octal(st.mode)} (group or others can write to it, and so replace ` +
        `its files): run \`chmod 700 ${dir}\`, or point it at a subdirectory (a missing one is created ` +
        `with mode 0700)`,
    );
  }
}

function refuseLink(path: string, err: unknown): never {
  const code = (err as NodeJS.ErrnoException).code;
  // Linux answers ELOOP for O_NOFOLLOW on a symlink; FreeBSD EMLINK.
  if (code === 'ELOOP' || code === 'EMLINK') {
    throw new InferlogError(
      'UNSAFE_PATH',
      `${path} is a symbolic link; refusing to follow it (remove it: inferlog creates its own files)`,
      { cause: err },
    );
  }
  throw err;
}

/**
 * Opens `path` without following a symbolic link. `flags` are fs.constants O_* flags; when they
 * create the file, it is created 0600 and chmodded to 0600 whatever the umask.
 */
export function openPrivateSync(path: string, flags: number): number {
  let fd: number;
  try {
    fd = openSync(path, flags | O_NOFOLLOW, PRIVATE_FILE_MODE);
  } catch (err) {
    refuseLink(path, err);
  }
  if ((flags & constants.O_CREAT) !== 0) fchmodSync(fd, PRIVATE_FILE_MODE);
  return fd;
}

/** The async, read-only variant of openPrivateSync. */
export async function openPrivateForRead(path: string): Promise<FileHandle> {
  try {
    return await open(path, constants.O_RDONLY | O_NOFOLLOW);
  } catch (err) {
    refuseLink(path, err);
  }
}
