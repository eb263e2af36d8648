/**
 * A bearer token kept in a file (a mounted Kubernetes Secret) and re-read when the file changes,
 * so a rotated token needs no restart.
 *
 *   current() ──(≥ recheckMs since the last look)──▶ stat ──changed (mtime, size, inode)──▶ re-read, check
 *             ◀── the token in force ─────────────────────────────────────────────────────┘
 *
 * Kubernetes updates a Secret volume by swapping a symlink (`..data`), which a watch on the file can
 * miss; a stat per send (at most one per `recheckMs`) follows the symlink and sees it. A file that
 * became unreadable or holds no valid token keeps the last good token in force: the destination's
 * 401 then says the credentials are wrong, and the next good write is picked up.
 * The token itself is never logged or put into an error.
 */
import { readFile, stat } from 'node:fs/promises';
import { readTokenFile, tokenFromText } from '../core/bearer-token.js';

export interface BearerTokenFile {
  /** The token in force, re-read first when the file changed since the last look. */
  current(): Promise<string>;
  /** Looks at the file at the next `current()` whatever the time (after a 401). */
  recheckSoon(): void;
}

export function bearerTokenFile(file: string, recheckMs = 1000): BearerTokenFile {
  // Read now, synchronously: the config loader checked this file moments ago; a failure here is
  // the same startup error (CONFIG_INVALID naming the file).
  let token = readTokenFile(file);
  let seen = '';
  let lastLook = 0;
  let looking: Promise<void> | undefined;

  async function look(): Promise<void> {
    try {
      const st = await stat(file);
      const version = `${st.mtimeMs}:${st.size}:${st.ino}`;
      if (version === seen) return;
      token = tokenFromText(await readFile(file, 'utf8'), file);
      seen = version;
    } catch {
      // Keep the last good token (see above); look again next time.
    }
  }

  void stat(file).then(
    (st) => (seen = `${st.mtimeMs}:${st.size}:${st.ino}`),
    () => undefined,
  );
  return {
    async current() {
      const now = Date.now();
      if (now - lastLook >= recheckMs) {
        lastLook = now;
        looking ??= look().finally(() => (looking = undefined));
      }
      if (looking) await looking;
      return token;
    },
    recheckSoon() {
      lastLook = 0;
    },
  };
}
