/**
 * Store URL → store (errors name the URL; the CLI puts its flag name, `--store`, in front):
 *   sqlite:./inferlog.db (default; sync=normal), sqlite:/var/lib/inferlog.db?sync=full,
 *   sqlite:./inferlog.db?writer=inline (commits on the event loop, not a writer thread)
 *   postgres://user:pw@host:5432/db
 */
import { InferlogError } from '../core/errors.js';
import { createPostgresStore } from './postgres-store.js';
import { createSqliteStore } from './sqlite-store.js';
import type { ExchangeStore } from './store.js';

export const DEFAULT_STORE_URL = 'sqlite:./inferlog.db';

export function openStore(url: string): ExchangeStore {
  if (url.startsWith('sqlite:')) {
    const [rest = '', query = ''] = url.slice('sqlite:'.length).split('?', 2);
    const path = rest.replace(/^\/\/(?=\/)/, '');
    if (path === '') {
      throw new InferlogError('CONFIG_INVALID', 'sqlite: needs a file path, e.g. sqlite:./inferlog.db');
    }
    const params = new URLSearchParams(query);
    const sync = params.get('sync') ?? 'normal';
    const writer = params.get('writer') ?? 'worker';
    if (
      (sync !== 'full' && sync !== 'normal') ||
      (writer !== 'worker' && writer !== 'inline') ||
      [...params.keys()].some((k) => k !== 'sync' && k !== 'writer')
    ) {
      throw new InferlogError(
        'CONFIG_INVALID',
        `"${url}": the sqlite options are sync=full|normal and writer=worker|inline`,
      );
    }
    return createSqliteStore(path, { sync, writer });
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return createPostgresStore(url);
  throw new InferlogError(
    'CONFIG_INVALID',
    `"${url}": use sqlite:<file> or postgres://user:password@host:5432/db`,
  );
}
