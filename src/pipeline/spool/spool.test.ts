import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../core/exchange.js';
import { createOpLogger } from '../../core/log.js';
import { exchange } from '../../../test/support/record-server.js';
import { arbExchange } from '../../../test/support/arb-exchange.js';
import type { DropReason } from '../buffer.js';
import { Spool, type SpoolConfig } from './spool.js';

const quiet = createOpLogger('test', { write: () => true }, 'error');

function open(
  dir: string,
  over: Partial<SpoolConfig> = {},
): { spool: Spool; drops: Map<DropReason, number> } {
  const drops = new Map<DropReason, number>();
  const spool = Spool.open({
    dir,
    maxBytes: 64 * 1024 * 1024,
    whenFull: 'drop-newest',
    durability: 'process',
    log: quiet,
    onDrop: (r, n) => drops.set(r, (drops.get(r) ?? 0) + n),
    ...over,
  });
  return { spool, drops };
}

const tmp = (): string => mkdtempSync(join(tmpdir(), 'inferlog-spool-'));

async function readAll(spool: Spool, ack = true, max = 50): Promise<Exchange[]> {
  const out: Exchange[] = [];
  for (;;) {
    const b = await spool.read(max);
    if (!b) return out;
    out.push(...b.exchanges);
    if (ack) spool.ack(b);
  }
}

const segments = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.startsWith('segment-'))
    .sort();

describe('disk spool', () => {
  it('gives back what was appended, in order, each exchange exactly as it was', async () => {
    const { spool } = open(tmp());
    const sent = Array.from({ length: 300 }, () => exchange());
    for (const ex of sent) spool.append(ex);
    expect(spool.records).toBe(300);
    expect(spool.unread()).toBe(300);
    const got = await readAll(spool);
    expect(got).toEqual(sent);
    expect(spool.records).toBe(0);
    await spool.close();
  });

  it('redelivers unacked records after a reopen, and never acked ones', async () => {
    const dir = tmp();
    const a = open(dir);
    const sent = Array.from({ length: 100 }, () => exchange());
    for (const ex of sent) a.spool.append(ex);
    const first = await a.spool.read(30);
    a.spool.ack(first!);
    await a.spool.read(30); // handed out, never acked: the sink did not confirm it
    await a.spool.close();

    const b = open(dir);
    expect(b.spool.recovered).toBe(70);
    const got = await readAll(b.spool);
    expect(got.map((e) => e.id)).toEqual(sent.slice(30).map((e) => e.id));
    await b.spool.close();
  });

  it('acks out of order only forget records once every earlier batch is acked', async () => {
    const dir = tmp();
    const a = open(dir);
    const sent = Array.from({ length: 30 }, () => exchange());
    for (const ex of sent) a.spool.append(ex);
    const b1 = await a.spool.read(10);
    const b2 = await a.spool.read(10);
    a.spool.ack(b2!); // the later batch finished first
    expect(a.spool.records).toBe(30);
    await a.spool.close();
    const b = open(dir);
    // b1 was never acked: it and everything after come back (b2 again: a duplicate, not a loss).
    expect((await readAll(b.spool)).map((e) => e.id)).toEqual(sent.map((e) => e.id));
    void b1;
    await b.spool.close();
  });

  it('survives a SIGKILL of the writing process in the turn after the appends (one write per turn)', async () => {
    const dir = tmp();
    const script = `
      import { Spool } from ${JSON.stringify(join(process.cwd(), 'dist/pipeline/spool/spool.js'))};
      const s = Spool.open({ dir: ${JSON.stringify(dir)}, maxBytes: 1e9, whenFull: 'drop-newest', durability: 'process',
        log: { debug() {}, info() {}, warn() {}, error() {} }, onDrop() {} });
      const now = Date.now();
      for (let i = 0; i < 2000; i++) s.append({ id: 'k' + i, source: { inferenceService: 'm', namespace: 'n', component: 'c', endpoint: '', sourceUri: 'u', annotations: {} },
        mode: 'all', method: 'POST', url: '/', metadata: {}, requestTime: now, responseTime: now, status: 200, sampleWeight: 1,
        request: { bytes: new Uint8Array(100), size: 100, truncated: false } });
      // The turn's records are written at its end (pipeline/turn-end.ts), before this runs.
      setImmediate(() => process.kill(process.pid, 'SIGKILL'));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.signal).toBe('SIGKILL');
    const { spool, drops } = open(dir); // the dead process's lock is stale
    const got = await readAll(spool);
    expect(got.map((e) => e.id)).toEqual(Array.from({ length: 2000 }, (_, i) => 'k' + i));
    expect(drops.size).toBe(0);
    await spool.close();
  });

  it('writes the records appended in one turn together at its end; a read before then writes them first', async () => {
    const dir = tmp();
    const { spool } = open(dir);
    const onDisk = (): number => statSync(join(dir, segments(dir).at(-1)!)).size;
    const sent = Array.from({ length: 50 }, () => exchange());
    for (const ex of sent) spool.append(ex);
    expect(onDisk()).toBe(0); // one write for the whole turn, not one per record
    expect(spool.records).toBe(50); // counted from the append on
    await new Promise((r) => setImmediate(r));
    const afterTurn = onDisk();
    expect(afterTurn).toBe(spool.bytes);
    for (const ex of sent) spool.append(ex);
    const got = await readAll(spool); // the read writes this turn's records before it looks
    expect(got.map((e) => e.id)).toEqual([...sent, ...sent].map((e) => e.id));
    expect(onDisk()).toBe(2 * afterTurn);
    await spool.close();
  });

  it('a turn whose one write fails drops and counts each of its records; the file keeps whole frames', () => {
    // A real failing write: the file size limit (ulimit -f, in KiB) makes write() fail with EFBIG.
    const dir = tmp();
    const script = `
      import { Spool } from ${JSON.stringify(join(process.cwd(), 'dist/pipeline/spool/spool.js'))};
      const drops = {};
      const s = Spool.open({ dir: ${JSON.stringify(dir)}, maxBytes: 1e9, whenFull: 'drop-newest', durability: 'process',
        log: { debug() {}, info() {}, warn() {}, error() {} }, onDrop(r, n) { drops[r] = (drops[r] ?? 0) + n; } });
      const now = Date.now();
      const ex = (id) => ({ id, source: { inferenceService: 'm', namespace: 'n', component: 'c', endpoint: '', sourceUri: 'u', annotations: {} },
        mode: 'all', method: 'POST', url: '/', metadata: {}, requestTime: now, responseTime: now, status: 200, sampleWeight: 1,
        request: { bytes: new Uint8Array(1000), size: 1000, truncated: false } });
      for (let i = 0; i < 5; i++) s.append(ex('a' + i)); // ~6.7 KB: fits
      await new Promise((r) => setImmediate(r));
      for (let i = 0; i < 40; i++) s.append(ex('b' + i)); // ~54 KB more in one write: over the limit
      const got = [];
      for (;;) { const b = await s.read(100); if (!b) break; got.push(...b.exchanges.map((e) => e.id)); s.ack(b); }
      console.log(JSON.stringify({ drops, got, records: s.records }));
      await s.close();
    `;
    const r = spawnSync(
      'sh',
      ['-c', 'ulimit -f 16 && exec "$0" --input-type=module -e "$1"', process.execPath, script],
      {
        encoding: 'utf8',
      },
    );
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { drops: Record<string, number>; got: string[]; records: number };
    expect(out.drops).toEqual({ spool_io: 40 });
    expect(out.got).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
    expect(out.records).toBe(0);
    // Cut back to the last whole frame: a reopen finds the five records (acked) and nothing corrupt.
    const { spool, drops } = open(dir);
    expect(spool.records).toBe(0);
    expect(drops.size).toBe(0);
    void spool.close();
  });

  it('skips a corrupt record in the middle of a segment, counts it, and delivers the rest', async () => {
    const dir = tmp();
    const a = open(dir);
    const sent = Array.from({ length: 10 }, () => exchange());
    for (const ex of sent) a.spool.append(ex);
    await a.spool.close();
    const file = join(dir, segments(dir)[0]!);
    const bytes = readFileSync(file);
    const frame = bytes.length / 10;
    const at = Math.floor(frame * 4.5); // a byte inside record 4
    bytes[at] = (bytes[at] as number) ^ 0xff;
    writeFileSync(file, bytes);

    const b = open(dir);
    const got = await readAll(b.spool);
    expect(got.map((e) => e.id)).toEqual(sent.filter((_, i) => i !== 4).map((e) => e.id));
    expect(b.drops.get('corrupt')).toBe(1);
    await b.spool.close();
  });

  it('skips a record torn by a crash mid-write at the end of a segment', async () => {
    const dir = tmp();
    const a = open(dir);
    const sent = Array.from({ length: 10 }, () => exchange());
    for (const ex of sent) a.spool.append(ex);
    await a.spool.close();
    const file = join(dir, segments(dir)[0]!);
    truncateSync(file, readFileSync(file).length - 7);

    const b = open(dir);
    expect(b.spool.recovered).toBe(9);
    const got = await readAll(b.spool);
    expect(got.map((e) => e.id)).toEqual(sent.slice(0, 9).map((e) => e.id));
    expect(b.drops.get('corrupt')).toBe(1);
    // Appends after recovery go to a new segment and are read after the old ones.
    const late = exchange();
    b.spool.append(late);
    expect((await readAll(b.spool)).map((e) => e.id)).toEqual([late.id]);
    await b.spool.close();
  });

  it('drop-newest: a full spool refuses new records, counts them, keeps the oldest', async () => {
    const { spool, drops } = open(tmp(), {
      maxBytes: 64 * 1024,
      segmentBytes: 8 * 1024,
      whenFull: 'drop-newest',
    });
    const sent = Array.from({ length: 1000 }, () => exchange(undefined, 200));
    for (const ex of sent) spool.append(ex);
    expect(spool.bytes).toBeLessThanOrEqual(64 * 1024);
    const kept = spool.records;
    expect(drops.get('spool_full')).toBe(1000 - kept);
    const got = await readAll(spool);
    expect(got.map((e) => e.id)).toEqual(sent.slice(0, kept).map((e) => e.id));
    await spool.close();
  });

  it('drop-oldest: a full spool deletes the oldest unread segments, counts them, keeps the newest', async () => {
    const { spool, drops } = open(tmp(), {
      maxBytes: 64 * 1024,
      segmentBytes: 8 * 1024,
      whenFull: 'drop-oldest',
    });
    const sent = Array.from({ length: 1000 }, () => exchange(undefined, 200));
    for (const ex of sent) spool.append(ex);
    expect(spool.bytes).toBeLessThanOrEqual(64 * 1024);
    const kept = spool.records;
    expect(drops.get('spool_full')).toBe(1000 - kept);
    const got = await readAll(spool);
    expect(got.length).toBe(kept);
    expect(got[got.length - 1]!.id).toBe(sent[999]!.id);
    // What survives is the oldest segment (it held the read cursor) plus the newest run.
    const ids = new Set(sent.map((e) => e.id));
    for (const e of got) expect(ids.has(e.id)).toBe(true);
    await spool.close();
  });

  it('deletes segments once every record in them is acked', async () => {
    const dir = tmp();
    const { spool } = open(dir, { segmentBytes: 4096 });
    for (let i = 0; i < 200; i++) spool.append(exchange());
    expect(segments(dir).length).toBeGreaterThan(3);
    await readAll(spool);
    expect(segments(dir).length).toBe(1); // only the segment being written
    expect(spool.records).toBe(0);
    await spool.close();
  });

  it('goes on past a segment file deleted under it, counting its records as lost', async () => {
    const dir = tmp();
    const a = open(dir, { segmentBytes: 4096 });
    const sent = Array.from({ length: 100 }, () => exchange());
    for (const ex of sent) a.spool.append(ex);
    await a.spool.close();
    const b = open(dir, { segmentBytes: 4096 });
    const victim = segments(dir)[1]!;
    unlinkSync(join(dir, victim));
    const got = await readAll(b.spool);
    const lost = b.drops.get('spool_io') ?? 0;
    expect(lost).toBeGreaterThan(0);
    expect(got.length + lost).toBe(100);
    expect(got[got.length - 1]!.id).toBe(sent[99]!.id);
    await b.spool.close();
  });

  it('refuses a directory already open in this same process', async () => {
    const dir = tmp();
    const a = open(dir);
    expect(() => open(dir)).toThrow(/already open in this process/);
    await a.spool.close();
    const b = open(dir); // fine once the first one closed
    await b.spool.close();
  });

  it('refuses a directory another live process is using', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'lock'), String(process.ppid));
    expect(() => open(dir)).toThrow(/in use by process/);
  });

  it('never throws on arbitrary corruption, and accounts for every record it cannot return', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(arbExchange(), { minLength: 1, maxLength: 12 }),
        fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { maxLength: 6 }),
        fc.option(fc.nat()),
        fc.option(fc.record({ at: fc.nat(), junk: fc.uint8Array({ minLength: 1, maxLength: 40 }) })),
        async (sent, flips, cut, insert) => {
          const dir = tmp();
          const a = open(dir);
          for (const ex of sent) a.spool.append(ex);
          await a.spool.close();
          const file = join(dir, segments(dir)[0]!);
          let bytes = readFileSync(file);
          for (const f of flips) bytes[f.at % bytes.length] = f.byte;
          if (insert) {
            const at = insert.at % bytes.length;
            bytes = Buffer.concat([bytes.subarray(0, at), insert.junk, bytes.subarray(at)]);
          }
          if (cut !== null) bytes = bytes.subarray(0, cut % (bytes.length + 1));
          writeFileSync(file, bytes);

          const b = open(dir);
          const got = await readAll(b.spool, true, 5);
          // Every record returned is one that was written, in the order written.
          let j = 0;
          for (const ex of got) {
            while (j < sent.length && !isDeepStrictEqual(sent[j], ex)) j++;
            expect(j).toBeLessThan(sent.length);
            j++;
          }
          // Any record not returned is explained by a counted corruption — or by a cut that fell
          // exactly between two records, which looks the same as records never written.
          const cutAtBoundary = cut !== null && got.every((ex, i) => isDeepStrictEqual(ex, sent[i]));
          if (got.length < sent.length && !cutAtBoundary)
            expect(b.drops.get('corrupt') ?? 0).toBeGreaterThan(0);
          expect(b.spool.records).toBe(0);
          await b.spool.close();
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('disk spool, durability machine', () => {
  it('fsyncs in the background and gives back the same records after a reopen', async () => {
    const dir = tmp();
    const a = open(dir, { durability: 'machine', fsyncIntervalMs: 5 });
    const sent = Array.from({ length: 50 }, () => exchange());
    for (const ex of sent) a.spool.append(ex);
    await new Promise((r) => setTimeout(r, 30)); // let a group fsync run
    await a.spool.close();
    const b = open(dir, { durability: 'machine' });
    expect((await readAll(b.spool)).map((e) => e.id)).toEqual(sent.map((e) => e.id));
    await b.spool.close();
  });
});

describe('disk spool, model-based', () => {
  it('any mix of appends, reads (any size), acks and reopens yields every record once, in order', async () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('append' as const), n: fc.integer({ min: 1, max: 40 }) }),
      fc.record({
        kind: fc.constant('read' as const),
        max: fc.integer({ min: 1, max: 60 }),
        ack: fc.boolean(),
      }),
      fc.record({ kind: fc.constant('ackAll' as const) }),
      fc.record({ kind: fc.constant('reopen' as const) }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { maxLength: 25 }),
        fc.integer({ min: 0, max: 64 * 1024 }),
        async (ops, cacheBytes) => {
          const dir = tmp();
          const cfg = { segmentBytes: 2048, cacheBytes };
          let s = open(dir, cfg).spool;
          let next = 0;
          const seen: number[] = [];
          let unacked: { batch: NonNullable<Awaited<ReturnType<Spool['read']>>>; ids: number[] }[] = [];
          const idOf = (e: Exchange): number => Number(e.id.slice(2));
          for (const o of ops) {
            if (o.kind === 'append') for (let i = 0; i < o.n; i++) s.append(exchange(`m-${next++}`));
            else if (o.kind === 'read') {
              const b = await s.read(o.max);
              if (!b) continue;
              expect(b.exchanges.length).toBeLessThanOrEqual(o.max);
              const ids = b.exchanges.map(idOf);
              seen.push(...ids);
              if (o.ack) s.ack(b);
              else unacked.push({ batch: b, ids });
            } else if (o.kind === 'ackAll') {
              for (const u of unacked) s.ack(u.batch);
              unacked = [];
            } else {
              await s.close();
              s = open(dir, cfg).spool;
              unacked = [];
            }
            // What is read is always a run of consecutive ids after a possible restart point.
            for (let i = 1; i < seen.length; i++) {
              const prev = seen[i - 1] as number;
              const cur = seen[i] as number;
              if (cur !== prev + 1) expect(cur).toBeLessThanOrEqual(prev); // a redelivery after reopen
            }
            expect(s.records).toBeGreaterThanOrEqual(0);
          }
          // Drain: everything never acked comes back; in the end every id was seen.
          for (const u of unacked) s.ack(u.batch);
          for (;;) {
            const b = await s.read(100);
            if (!b) break;
            seen.push(...b.exchanges.map(idOf));
            s.ack(b);
          }
          expect(new Set(seen).size).toBe(next);
          expect(s.records).toBe(0);
          await s.close();
        },
      ),
      { numRuns: 120 },
    );
  });
});

describe('disk spool, model-based when full', () => {
  it('with a small bound, every record is either read once or counted as dropped', async () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('append' as const), n: fc.integer({ min: 1, max: 60 }) }),
      fc.record({
        kind: fc.constant('read' as const),
        max: fc.integer({ min: 1, max: 30 }),
        ack: fc.boolean(),
      }),
      fc.record({ kind: fc.constant('ackAll' as const) }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { maxLength: 25 }),
        fc.constantFrom('drop-newest' as const, 'drop-oldest' as const),
        fc.integer({ min: 0, max: 32 * 1024 }),
        async (ops, whenFull, cacheBytes) => {
          const { spool: s, drops } = open(tmp(), {
            maxBytes: 16 * 1024,
            segmentBytes: 2048,
            whenFull,
            cacheBytes,
          });
          let next = 0;
          const seen = new Set<string>();
          let unacked: NonNullable<Awaited<ReturnType<Spool['read']>>>[] = [];
          for (const o of ops) {
            if (o.kind === 'append') for (let i = 0; i < o.n; i++) s.append(exchange(`f-${next++}`));
            else if (o.kind === 'read') {
              const b = await s.read(o.max);
              if (!b) continue;
              for (const e of b.exchanges) {
                expect(seen.has(e.id)).toBe(false); // no duplicates within a run
                seen.add(e.id);
              }
              if (o.ack) s.ack(b);
              else unacked.push(b);
            } else {
              for (const b of unacked) s.ack(b);
              unacked = [];
            }
            expect(s.bytes).toBeLessThanOrEqual(16 * 1024);
          }
          for (const b of unacked) s.ack(b);
          for (;;) {
            const b = await s.read(100);
            if (!b) break;
            for (const e of b.exchanges) seen.add(e.id);
            s.ack(b);
          }
          expect(seen.size + (drops.get('spool_full') ?? 0)).toBe(next);
          await s.close();
        },
      ),
      { numRuns: 120 },
    );
  });
});

describe('disk spool: a directory and files only this process can touch', () => {
  const precious = (): string => {
    const p = join(mkdtempSync(join(tmpdir(), 'inferlog-victim-')), 'precious.txt');
    writeFileSync(p, 'precious');
    return p;
  };
  const mode = (p: string): number => statSync(p).mode & 0o777;

  for (const name of ['lock', 'ledger', 'segment-0000000001.dat']) {
    it(`refuses a planted symbolic link as ${name}, leaving its target untouched`, () => {
      const dir = tmp();
      const victim = precious();
      symlinkSync(victim, join(dir, name));
      expect(() => open(dir)).toThrow(
        new RegExp(`${join(dir, name).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is a symbolic link`),
      );
      expect(readFileSync(victim, 'utf8')).toBe('precious');
      expect(lstatSync(join(dir, name)).isSymbolicLink()).toBe(true);
    });
  }

  it('creates its directories 0700 and its files 0600, whatever the umask', async () => {
    const dir = join(tmp(), 'a', 'spool');
    const old = process.umask(0);
    try {
      const { spool } = open(dir, { segmentBytes: 64 * 1024 });
      for (let i = 0; i < 50; i++) spool.append(exchange(undefined, 4096));
      spool.ack((await spool.read(10))!);
      expect(mode(dir)).toBe(0o700);
      expect(mode(join(dir, '..'))).toBe(0o700);
      const files = readdirSync(dir);
      expect(files).toEqual(expect.arrayContaining(['lock', 'ledger', 'segment-0000000001.dat']));
      expect(segments(dir).length).toBeGreaterThan(1);
      for (const f of files) expect([f, mode(join(dir, f))]).toEqual([f, 0o600]);
      await spool.close();
    } finally {
      process.umask(old);
    }
  });

  it('refuses a directory owned by another user, saying how to fix it', () => {
    const dir = tmp();
    chownSync(dir, 65534, 65534);
    expect(() => open(dir)).toThrow(
      `spool directory ${dir} is owned by uid 65534, not by this process (uid ${process.geteuid!()})`,
    );
    expect(() => open(dir)).toThrow(`chown ${process.geteuid!()} ${dir}`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a directory others can write to (0777), saying how to fix it', () => {
    const dir = tmp();
    chmodSync(dir, 0o777);
    expect(() => open(dir)).toThrow(`spool directory ${dir} has mode 0777`);
    expect(() => open(dir)).toThrow(`chmod 700 ${dir}`);
    expect(readdirSync(dir)).toEqual([]);
    chmodSync(dir, 0o755); // group and others may read: accepted (files inside are 0600 anyway)
    expect(() => open(dir).spool.close()).not.toThrow();
  });
});
