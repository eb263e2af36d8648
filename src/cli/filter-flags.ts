/**
 * The exchange filters `query`, `query --from/--db` and `erase` share: one flag list, one mapping
 * to the API's parameter names. The values stay text: collector/query-params.ts validates them
 * (the collector for `query` and `erase`, lake/run.ts for the lake), so every command gives the
 * same messages.
 */
import type { Command } from 'commander';

export interface FilterFlags {
  model?: string;
  namespace?: string;
  component?: string;
  status?: string;
  since?: string;
  until?: string;
  q?: string;
  traceId?: string;
  requestId?: string;
  header?: string;
}

/** The filters of the instance list and the lake's view, which have no request headers. */
const BASE_KEYS = ['model', 'namespace', 'component', 'status', 'since', 'until', 'q', 'traceId'] as const;
/** Every filter of the exchange list (GET/DELETE /api/v1/exchanges). */
const ALL_KEYS = [...BASE_KEYS, 'requestId', 'header'] as const;

/**
 * `--model` … `--trace-id`; with `headers`, also `--request-id` and `--header` (`subject` says
 * which exchanges they select: "the exchanges" for a list, "every exchange" for `erase`).
 */
export function addFilterFlags(cmd: Command, headers?: { subject: string }): Command {
  cmd
    .option('--model <name>', 'InferenceService name')
    .option('--namespace <ns>', 'Kubernetes namespace')
    .option('--component <c>', 'predictor, transformer, explainer')
    .option('--status <s>', '200, 4xx, 5xx, error, incomplete')
    .option('--since <t>', 'RFC 3339 or a duration back from now, e.g. 15m')
    .option('--until <t>', 'RFC 3339 or a duration back from now')
    .option('--q <text>', 'text in the request or response body')
    .option('--trace-id <id>', 'the exchanges of one W3C trace (32 hex digits)');
  if (headers)
    cmd
      .option('--request-id <id>', `${headers.subject} whose request carried this X-Request-Id`)
      .option('--header <name:value>', `${headers.subject} whose request carried this header value`);
  return cmd;
}

/**
 * The flags as API parameters (undefined = not given); `headers: false` leaves out requestId and
 * header, which the instance list and the lake do not take.
 */
export function filterParams(f: FilterFlags, headers = true): Record<string, string | undefined> {
  return Object.fromEntries((headers ? ALL_KEYS : BASE_KEYS).map((k) => [k, f[k]]));
}
