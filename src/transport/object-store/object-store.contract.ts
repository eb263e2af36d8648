/**
 * The contract every ObjectStore keeps. Each backend's test file calls `objectStoreContract`
 * with a function that opens the store on a bucket that exists (an emulator's, or a directory).
 * Every test writes under its own random prefix, so one bucket serves the whole suite.
 *
 * What the blob sink and `query --from` rely on:
 *   - get returns exactly the bytes put (binary, empty, and larger than a part);
 *   - a put on an existing key replaces it (a retried upload overwrites, never duplicates);
 *   - list is in key order and a prefix is a string prefix: `…/a/` never lists `…/ab/`;
 *   - keys with spaces, `+ % # ?` and non-ASCII characters round-trip unchanged;
 *   - a missing key is NOT_FOUND (permanent), not a retryable error;
 *   - a key that could name another object (`.`/`..` segments) or cannot be listed (control
 *     characters) is refused as SINK_REJECTED, whatever the backend would have made of it.
 *
 * S3 (s3.ts) joins with one line in its test file:
 *   objectStoreContract('s3 (moto)', { open: (partSizeBytes) => openObjectStore(loc, { credentials, partSizeBytes }) });
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isInferlogError } from '../../core/errors.js';
import type { ObjectInfo, ObjectStore } from './object-store.js';

/** The part size the suite opens stores with: S3's minimum, so one size fits every backend. */
export const CONTRACT_PART_SIZE = 5 * 1024 * 1024;

export interface ContractOptions {
  /** Open a store whose multipart threshold is `partSizeBytes`. */
  open(partSizeBytes: number): Promise<ObjectStore>;
}

async function collect(it: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const o of it) out.push(o);
  return out;
}

const enc = new TextEncoder();

export function objectStoreContract(name: string, opts: ContractOptions): void {
  describe(`ObjectStore contract: ${name}`, () => {
    // A fresh prefix per test: tests never see each other's objects.
    const fresh = (): string => `contract-${randomBytes(6).toString('hex')}`;
    const withStore = async (fn: (s: ObjectStore) => Promise<void>): Promise<void> => {
      const store = await opts.open(CONTRACT_PART_SIZE);
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    };

    it('get returns exactly the bytes put, binary and empty bodies included', () =>
      withStore(async (store) => {
        const p = fresh();
        const binary = new Uint8Array(randomBytes(4096));
        await store.put(`${p}/bin`, binary, { contentType: 'application/octet-stream' });
        await store.put(`${p}/empty`, new Uint8Array(0));
        expect(Buffer.from(await store.get(`${p}/bin`)).equals(Buffer.from(binary))).toBe(true);
        expect((await store.get(`${p}/empty`)).byteLength).toBe(0);
      }));

    it('lists every object under a prefix in key order, with its size', () =>
      withStore(async (store) => {
        const p = fresh();
        const keys = [`${p}/b/2`, `${p}/a/1`, `${p}/c`, `${p}/a/10`, `${p}/a/2`];
        for (const [i, k] of keys.entries()) await store.put(k, enc.encode('x'.repeat(i + 1)));
        const listed = await collect(store.list(`${p}/`));
        expect(listed.map((o) => o.key)).toEqual([`${p}/a/1`, `${p}/a/10`, `${p}/a/2`, `${p}/b/2`, `${p}/c`]);
        expect(listed.find((o) => o.key === `${p}/c`)?.size).toBe(3);
        expect(await collect(store.list(`${p}/nothing-here/`))).toEqual([]);
      }));

    it('a put on an existing key replaces the object: one key, the new bytes', () =>
      withStore(async (store) => {
        const p = fresh();
        await store.put(`${p}/k`, enc.encode('first attempt, longer body'));
        await store.put(`${p}/k`, enc.encode('retry'));
        expect(new TextDecoder().decode(await store.get(`${p}/k`))).toBe('retry');
        expect(await collect(store.list(`${p}/`))).toEqual([{ key: `${p}/k`, size: 5 }]);
      }));

    it('a body larger than the part size goes up in parts and reads back whole', () =>
      withStore(async (store) => {
        const p = fresh();
        // 2.4 parts: a short last part catches off-by-one chunking.
        const big = new Uint8Array(randomBytes(Math.floor(CONTRACT_PART_SIZE * 2.4)));
        await store.put(`${p}/big.parquet`, big);
        const back = await store.get(`${p}/big.parquet`);
        expect(back.byteLength).toBe(big.byteLength);
        expect(Buffer.from(back).equals(Buffer.from(big))).toBe(true);
        expect(await collect(store.list(`${p}/`))).toEqual([
          { key: `${p}/big.parquet`, size: big.byteLength },
        ]);
        // Overwriting a multipart object with a small one leaves only the small one.
        await store.put(`${p}/big.parquet`, enc.encode('small'));
        expect(new TextDecoder().decode(await store.get(`${p}/big.parquet`))).toBe('small');
      }));

    it('a missing key is NOT_FOUND, a permanent error', () =>
      withStore(async (store) => {
        const p = fresh();
        const err = await store.get(`${p}/no-such-object`).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isInferlogError(err, 'NOT_FOUND')).toBe(true);
        expect(isInferlogError(err) && err.kind).toBe('permanent');
      }));

    it('keys with spaces, URL metacharacters and non-ASCII characters round-trip unchanged', () =>
      withStore(async (store) => {
        const p = fresh();
        const keys = [
          `${p}/name space/a b.json`,
          `${p}/meta/plus+percent%25hash#question?amp&eq=.json`,
          `${p}/unicode/modèle-日本語-ü.json`,
        ];
        for (const k of keys) await store.put(k, enc.encode(k));
        for (const k of keys) expect(new TextDecoder().decode(await store.get(k))).toBe(k);
        const listed = (await collect(store.list(`${p}/`))).map((o) => o.key);
        expect([...listed].sort()).toEqual([...keys].sort());
        expect((await collect(store.list(`${p}/unicode/modèle`))).map((o) => o.key)).toEqual([keys[2]]);
      }));

    it('a prefix is a string prefix: listing "…/a/" does not return the neighbours "…/ab/" or "…/a-b"', () =>
      withStore(async (store) => {
        const p = fresh();
        for (const k of [`${p}/ns/a/1`, `${p}/ns/ab/1`, `${p}/ns/a-b`, `${p}/ns/b/1`, `${p}/ns2/a/1`])
          await store.put(k, enc.encode('x'));
        expect((await collect(store.list(`${p}/ns/a/`))).map((o) => o.key)).toEqual([`${p}/ns/a/1`]);
        expect((await collect(store.list(`${p}/ns/a`))).map((o) => o.key)).toEqual([
          `${p}/ns/a-b`,
          `${p}/ns/a/1`,
          `${p}/ns/ab/1`,
        ]);
        expect((await collect(store.list(`${p}/ns/`))).length).toBe(4);
      }));

    it('a key with a "." or ".." segment or a control character is refused (SINK_REJECTED) and written nowhere', () =>
      withStore(async (store) => {
        const p = fresh();
        // Keys carry ids that clients chose: a ".." must never climb out of the prefix (a URL
        // client normalises "/a/../b" to "/b"), and control characters make unlistable names.
        for (const key of [
          `${p}/ns/../escaped`,
          `${p}/./dot`,
          `${p}/ns\\..\\..\\escaped`,
          `${p}/ctl\nline`,
          `${p}/nul\u0000`,
        ]) {
          const err = await store.put(key, enc.encode('x')).catch((e: unknown) => e);
          expect(isInferlogError(err, 'SINK_REJECTED'), key).toBe(true);
        }
        expect(await collect(store.list(`${p}/`))).toEqual([]);
        expect(await collect(store.list(`${p}/escaped`))).toEqual([]);
      }));

    it('a put whose signal is already aborted writes nothing', () =>
      withStore(async (store) => {
        const p = fresh();
        const ac = new AbortController();
        ac.abort(new Error('shutting down'));
        await expect(store.put(`${p}/aborted`, enc.encode('x'), { signal: ac.signal })).rejects.toThrow();
        expect(await collect(store.list(`${p}/`))).toEqual([]);
      }));
  });
}

/**
 * For the cloud stores: a listing longer than one page (1000 keys) returns every key once, in
 * order. Separate from the contract because 1001 puts take seconds against an emulator.
 */
export function objectStorePagingTest(name: string, opts: ContractOptions): void {
  it(`${name}: a listing across pages returns all 1001 keys once, in order`, async () => {
    const store = await opts.open(CONTRACT_PART_SIZE);
    try {
      const p = `paging-${randomBytes(6).toString('hex')}`;
      const keys = Array.from({ length: 1001 }, (_, i) => `${p}/${String(i).padStart(4, '0')}`);
      // 16 puts at a time: enough to be quick, few enough for a loaded machine.
      for (let i = 0; i < keys.length; i += 16)
        await Promise.all(keys.slice(i, i + 16).map((k) => store.put(k, enc.encode('x'))));
      expect((await collect(store.list(`${p}/`))).map((o) => o.key)).toEqual(keys);
    } finally {
      await store.close();
    }
  }, 120_000);
}
