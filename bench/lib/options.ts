/**
 * `npm run bench -- [flags]`: parsed once, validated with zod, then frozen. `--help` prints HELP.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { parseBytes } from '../../src/core/units.js';

/** What `npm run bench -- --help` prints: every flag, its meaning and its default. */
export const HELP = `Usage: npm run bench -- [options]

What logging costs, against baselines measured in the same run (see BENCHMARKS.md).
Results go to --out as JSON and markdown; the table is printed on stdout.

Options:
  --smoke               a few seconds per scenario, 100B payloads, 8 connections,
                        2000 seeded exchanges (default: off)
  --duration <s>        seconds per measured run (default: 5; 1 with --smoke)
  --warmup <s>          seconds of warm-up before each run (default: 1; 0 with --smoke)
  --sizes <list>        payload sizes, e.g. 100,64KiB,1MiB (default: 100B,64KiB,1MiB)
  --connections <list>  concurrent connections, e.g. 8,64 (default: 8,64)
  --matrix <m>          sweep: every connection count at the smallest payload and every
                        payload at the fewest connections; full: every payload × every
                        connection count (default: sweep)
  --only <ids>          run only these scenario ids (lib/scenarios.ts), or the parts
                        collector (ingest + queries), pg (PostgreSQL ingest), scaling
                        (--processes / --workers 1, 2, auto) and lake
  --skip <ids>          leave out these scenario ids or parts
  --generator <g>       auto, wrk or autocannon (default: auto)
  --seed <n>            exchanges seeded for the query benchmark (default: 1M; 2000 with --smoke)
  --lake-n <n>          exchanges written as Parquet and queried with DuckDB for the
                        exchanges-layout benchmark (scenario id lake; default: 1M;
                        2000 with --smoke)
  --pg-url <url>        PostgreSQL for the pg part: a fresh schema is made in it and
                        dropped afterwards (default: $INFERLOG_BENCH_PG, else the test
                        peer on 127.0.0.1:54329 when it answers, else not measured)
  --reseed              rebuild the seeded store even when bench/results/seed-cache/ has one
  --profile             then profile the agent and in-process capture with --cpu-prof
  --timeout <s>         per-request timeout of the load generator (default: 30)
  --out <dir>           where results go (default: bench/results)
  --bin <path>          the CLI entry (default: bin/inferlog.js)
  --baseline-bin <path> another build's CLI entry: the collector ingest points run with it
                        too, in the same run, and the targets give the ratio (default: none)
  --example <file>      the InferenceService YAML the scenarios serve
                        (default: examples/inferenceservice-with-logging.yaml)
  --keep                keep the temporary directory (logs, DBs) for inspection
  -h, --help            print this and exit
`;

/** True when argv asks for help (checked before any other flag is parsed or validated). */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

const list = (v: string): number[] => v.split(',').map((s) => Number(s.trim()));
/** `100,64KiB,1MiB` → bytes; a value that is not a size becomes NaN, which zod then names. */
const sizes = (v: string): number[] =>
  v.split(',').map((s) => {
    try {
      return parseBytes(s);
    } catch {
      return NaN;
    }
  });
const ids = (v: string | undefined): string[] =>
  v
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];

const Options = z.object({
  smoke: z.boolean(),
  durationS: z.number().int().min(1).max(600),
  warmupS: z.number().int().min(0).max(60),
  sizes: z
    .array(
      z
        .number()
        .int()
        .min(16)
        .max(64 * 1024 * 1024),
    )
    .min(1),
  connections: z.array(z.number().int().min(1).max(4096)).min(1),
  only: z.array(z.string()),
  skip: z.array(z.string()),
  generator: z.enum(['auto', 'wrk', 'autocannon']),
  seed: z.number().int().min(100).max(50_000_000),
  lakeN: z.number().int().min(100).max(50_000_000),
  profile: z.boolean(),
  out: z.string().min(1),
  bin: z.string().min(1),
  baselineBin: z.string().min(1).optional(),
  example: z.string().min(1),
  keep: z.boolean(),
  reseed: z.boolean(),
  pgUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// URL')
    .optional(),
  timeoutS: z.number().int().min(1),
  matrix: z.enum(['sweep', 'full']),
});
export type BenchOptions = Readonly<z.infer<typeof Options>>;

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      smoke: { type: 'boolean', default: false },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      sizes: { type: 'string' },
      connections: { type: 'string' },
      only: { type: 'string' },
      skip: { type: 'string' },
      generator: { type: 'string', default: 'auto' },
      seed: { type: 'string' },
      'lake-n': { type: 'string' },
      profile: { type: 'boolean', default: false },
      out: { type: 'string', default: 'bench/results' },
      bin: { type: 'string', default: 'bin/inferlog.js' },
      'baseline-bin': { type: 'string' },
      example: { type: 'string', default: 'examples/inferenceservice-with-logging.yaml' },
      keep: { type: 'boolean', default: false },
      reseed: { type: 'boolean', default: false },
      'pg-url': { type: 'string' },
      timeout: { type: 'string', default: '30' },
      matrix: { type: 'string', default: 'sweep' },
    },
    strict: true,
  });
  const smoke = values.smoke ?? false;
  const parsed = Options.safeParse({
    smoke,
    durationS: Number(values.duration ?? (smoke ? 1 : 5)),
    warmupS: Number(values.warmup ?? (smoke ? 0 : 1)),
    sizes: values.sizes ? sizes(values.sizes) : smoke ? [100] : [100, 64 * 1024, 1024 * 1024],
    connections: values.connections ? list(values.connections) : smoke ? [8] : [8, 64],
    only: ids(values.only),
    skip: ids(values.skip),
    generator: values.generator,
    seed: Number(values.seed ?? (smoke ? 2000 : 1_000_000)),
    lakeN: Number(values['lake-n'] ?? (smoke ? 2000 : 1_000_000)),
    profile: values.profile ?? false,
    out: values.out,
    bin: values.bin,
    baselineBin: values['baseline-bin'],
    example: values.example,
    keep: values.keep ?? false,
    reseed: values.reseed ?? false,
    pgUrl: values['pg-url'],
    timeoutS: Number(values.timeout),
    matrix: values.matrix,
  });
  if (!parsed.success) {
    const msg = parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`invalid bench options:\n${msg}`);
  }
  return Object.freeze(parsed.data);
}

/** Whether a scenario id (or a part: `collector`, `pg`, `scaling`, `lake`) is selected by --only/--skip. */
export function selected(o: BenchOptions, id: string): boolean {
  if (o.only.length && !o.only.includes(id)) return false;
  return !o.skip.includes(id);
}

/** The (payload size, connections) points each scenario runs, in order. */
export function loadPoints(o: BenchOptions): { size: number; connections: number }[] {
  const sizes = [...o.sizes].sort((a, b) => a - b);
  const conns = [...o.connections].sort((a, b) => a - b);
  if (o.matrix === 'full')
    return sizes.flatMap((size) => conns.map((connections) => ({ size, connections })));
  // Concurrency grows at the smallest payload; payload grows at the lowest concurrency. A 1 MiB body
  // at 64 connections mostly measures the model server's queue (every request waits ~64 model runs).
  const smallest = sizes[0] as number;
  const fewest = conns[0] as number;
  return [
    ...conns.map((connections) => ({ size: smallest, connections })),
    ...sizes.slice(1).map((size) => ({ size, connections: fewest })),
  ];
}
