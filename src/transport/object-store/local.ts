/**
 * A directory as an object store: a mounted volume (KServe's PVC logging), and the store the
 * tests and `query --from ./dir` use. A put writes a temporary file and renames it into place,
 * so a reader (or a crash) never sees half an object, and a retried put replaces the object.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { InferlogError } from '../../core/errors.js';
import { checkObjectKey } from './keys.js';
import type { BlobLocation, ObjectInfo, ObjectStore, PutOptions } from './object-store.js';

export function openLocalObjectStore(location: BlobLocation): ObjectStore {
  const root = location.bucket;
  const pathOf = (key: string): string => {
    checkObjectKey(key, `file://${root}`);
    const parts = key.split('/');
    // Keys come from our own naming, but ids inside them come from clients: never leave the root.
    if (parts.some((p) => p === '..' || p === '.' || p === '' || p.includes('\0')))
      throw new InferlogError(
        'SINK_REJECTED',
        `object key "${key.slice(0, 200)}" is not a safe relative path`,
      );
    return join(root, ...parts);
  };
  return {
    url: `file://${root}`,
    async put(key: string, body: Uint8Array, options?: PutOptions): Promise<void> {
      // A put after shutdown began writes nothing, as the cloud stores' puts do.
      options?.signal?.throwIfAborted();
      const target = pathOf(key);
      try {
        await mkdir(dirname(target), { recursive: true, mode: 0o700 });
        const tmp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
        const fh = await open(tmp, 'wx', 0o600);
        try {
          await fh.writeFile(body);
          await fh.sync();
        } finally {
          await fh.close();
        }
        await rename(tmp, target);
      } catch (err) {
        if (err instanceof InferlogError) throw err;
        throw new InferlogError('SINK_IO', `cannot write ${target}: ${(err as Error).message}`, {
          cause: err,
        });
      }
    },
    async get(key: string): Promise<Uint8Array> {
      try {
        return await readFile(pathOf(key));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT')
          throw new InferlogError('NOT_FOUND', `no object ${key} in ${root}`, { status: 404 });
        throw new InferlogError('SINK_IO', `cannot read ${key} in ${root}: ${(err as Error).message}`, {
          cause: err,
        });
      }
    },
    async *list(prefix: string): AsyncIterable<ObjectInfo> {
      const found: ObjectInfo[] = [];
      const walk = async (dir: string): Promise<void> => {
        let entries;
        try {
          entries = await readdir(dir, { withFileTypes: true });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
          throw err;
        }
        for (const e of entries) {
          const full = join(dir, e.name);
          if (e.isDirectory()) await walk(full);
          else if (e.isFile() && !e.name.endsWith('.tmp')) {
            const key = relative(root, full).split(sep).join('/');
            if (key.startsWith(prefix)) found.push({ key, size: (await stat(full)).size });
          }
        }
      };
      await walk(root);
      found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      yield* found;
    },
    async close(): Promise<void> {},
  };
}
