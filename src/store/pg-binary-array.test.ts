import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePostgres } from '../../test/helpers/peers.js';
import { pgBinaryArray } from './pg-binary-array.js';

let client: pg.Client | undefined;

beforeAll(async () => {
  client = new pg.Client({ connectionString: (await ensurePostgres()).url });
  await client.connect();
}, 180_000);

afterAll(async () => {
  await client?.end();
});

const roundTrip = async (type: Parameters<typeof pgBinaryArray>[0], values: unknown[]): Promise<unknown> =>
  (await client!.query<{ a: unknown }>(`SELECT $1::${type}[] AS a`, [pgBinaryArray(type, values)])).rows[0]!
    .a;

describe('binary PostgreSQL arrays', () => {
  it('carries text byte-exact, quotes, braces, backslashes, the word NULL and non-ASCII included', async () => {
    const texts = ['', 'a"b', '{c,d}', 'e\\f', 'NULL', null, 'ünï 😀', 'x'.repeat(10_000)];
    expect(await roundTrip('text', texts)).toEqual(texts);
  });

  it('carries numbers, booleans and NULLs of each element type', async () => {
    expect(await roundTrip('int2', [0, -1, 32_767, null])).toEqual([0, -1, 32_767, null]);
    expect(await roundTrip('int4', [200, -9999, 2 ** 31 - 1, null])).toEqual([200, -9999, 2 ** 31 - 1, null]);
    // node-postgres reads int8 as a string (it may not fit a double).
    expect(await roundTrip('int8', [29_476_440, -1, null])).toEqual(['29476440', '-1', null]);
    expect(await roundTrip('float8', [1.5, 1_787_000_000_123.25, -0.1, null])).toEqual([
      1.5,
      1_787_000_000_123.25,
      -0.1,
      null,
    ]);
    expect(await roundTrip('bool', [true, false, null])).toEqual([true, false, null]);
  });

  it('carries an empty array', async () => {
    expect(await roundTrip('text', [])).toEqual([]);
    expect(await roundTrip('int4', [])).toEqual([]);
  });

  it('carries a NUL, which PostgreSQL text cannot hold, as U+FFFD', async () => {
    expect(await roundTrip('text', ['a\u0000b\u0000'])).toEqual(['a\ufffdb\ufffd']);
  });
});
