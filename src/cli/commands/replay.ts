/**
 * `inferlog replay`: re-send captured requests to a candidate model and compare its answers.
 *
 *   flags ──parseReplayFlags (zod)──▶ runReplay ──▶ summary on stdout, progress on stderr
 *
 * Exit codes: see ../replay-exit.ts and docs/replay.md.
 */
import { addCollectorAccessFlags, collectorAccess, type CollectorAccessFlags } from '../collector-access.js';
import type { Command } from 'commander';
import { parseReplayFlags, type RawReplayFlags } from '../replay-flags.js';
import { runReplay } from '../../replay/run-replay.js';
import type { ReplayOptions } from '../../replay/options.js';
import { report } from '../exit-codes.js';
import { replayExitCode, replayMessage } from '../replay-exit.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function register(program: Command): void {
  const cmd = program
    .command('replay')
    .description(
      'Re-send captured requests (from a collector) to a model server and compare its answers with the captured ones.',
    )
    .option('--from <url>', 'the collector holding the captured traffic', 'http://127.0.0.1:8090')
    .option('--to <url>', 'the model server to replay against (the only place requests are sent)')
    .option('--model <name>', 'InferenceService name')
    .option('--namespace <ns>', 'Kubernetes namespace')
    .option('--component <c>', 'predictor, transformer, explainer')
    .option('--status <s>', 'captured status: 200, 2xx, 4xx, 5xx, error, incomplete')
    .option('--since <t>', 'RFC 3339 or a duration back from now, e.g. 1h')
    .option('--until <t>', 'RFC 3339 or a duration back from now (default: when the replay starts)')
    .option('--q <text>', 'text in the request or response body')
    .option('--limit <n>', 'replay at most this many exchanges (newest first)', '1000')
    .option(
      '--path <template>',
      'path for exchanges captured without a URL (KServe agent); {model} = ISVC name',
      '/v1/models/{model}:predict',
    )
    .option('--path-rewrite <from=to>', 'replace a path prefix (repeatable)', collect, [])
    .option('--rename-model <name>', 'send /v1|v2/models/<name>… instead of the captured model name')
    .option('--concurrency <n>', 'requests in flight at once', '8')
    .option('--rate <r>', 'at most this many requests per second (50/s, 300/m)')
    .option('--timeout <d>', 'per request, e.g. 10s', '10s')
    .option('--compare <mode>', 'exact (bytes), json (structure, numbers within --tolerance) or none', 'json')
    .option('--tolerance <x>', 'numbers a, b are equal when |a−b| ≤ x·max(1,|a|,|b|)', '0')
    .option(
      '--ignore <path>',
      'a JSON path not to compare, e.g. id or outputs[*].name (repeatable)',
      collect,
      [],
    )
    .option(
      '--header <h>',
      "send 'Name: value'; just 'Name' re-sends the captured metadata header (repeatable)",
      collect,
      [],
    )
    .option('--no-replay-id', 'do not send Ce-Id: replay-<captured id>')
    .option(
      '--any-route',
      'also re-send captured requests that are not POSTs to an inference route (V1 predict/explain, V2 infer, OpenAI completions/chat): they are skipped by default',
      false,
    )
    .option('--dry-run', 'list what would be sent; send nothing', false)
    .option(
      '--format <f>',
      'table, json (summary) or jsonl (one line per exchange, then the summary)',
      'table',
    )
    .option('--report <file>', 'write one JSON line per exchange (ids, statuses, latencies, differences)');
  addCollectorAccessFlags(cmd);
  cmd.action(async (flags: RawReplayFlags & CollectorAccessFlags) => {
    let opts: ReplayOptions | undefined;
    try {
      const parsed = parseReplayFlags(flags);
      opts = { ...parsed, source: collectorAccess(parsed.from, flags) };
      // First Ctrl-C: stop sending, print the summary of what was done. Second: exit now.
      const interrupt = new AbortController();
      const onSigint = (): void => {
        if (interrupt.signal.aborted) process.exit(130);
        interrupt.abort();
      };
      process.on('SIGINT', onSigint);
      const result = await runReplay(opts, {
        stdout: process.stdout,
        stderr: process.stderr,
        signal: interrupt.signal,
      });
      process.off('SIGINT', onSigint);
      if (result.error !== undefined)
        process.stderr.write(`inferlog replay: ${replayMessage(result.error, opts)}\n`);
      // Let stdout drain before exiting (large --format jsonl output into a pipe).
      process.exitCode = replayExitCode(result);
    } catch (err) {
      const o = opts;
      process.exitCode = report('replay', err, (e) => (o ? replayMessage(e, o) : e.message));
    }
  });
}
