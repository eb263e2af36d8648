/**
 * The exchange filters `query`, `query --from/--db` and `erase` share: one flag list, one mapping
 * to the API's parameter names. The values stay text: collector/query-params.ts validates them
 * (the collector for `query` and `erase`, lake/run.ts for the lake), so every command gives the
 * same messages.
 */
import type { Command } from 'commander';
import type { FilterText } from '../collector/query-params.js';

/** The flags hold the API's parameters as text (collector/query-params.ts validates them). */
export type FilterFlags = FilterText;

/** The filters of the instance list and the lake's view, which have no request headers. */
const BASE_KEYS = ['model', 'namespace', 'component', 'status', 'since', 'until', 'q', 'traceId'] as const;
const HEADER_KEYS = ['requestId', 'header'] as const;

/**
 * Which request-header filters a command takes: none (`--instances`, the lake), `last` (a list:
 * `query`), or `first` (`erase`, where erasing by request id is the usual privacy request, so
 * its help and its prompt name those first).
 */
export type HeaderFilters = 'none' | 'last' | 'first';

/**
 * `--model` … `--trace-id`, and unless `headers` is `none`, `--request-id` and `--header`
 * (`subject` says which exchanges they select: "the exchanges" for a list, "every exchange" for `erase`).
 */
export function addFilterFlags(cmd: Command, headers: HeaderFilters, subject = 'the exchanges'): Command {
  const addHeaders = (): void => {
    cmd
      .option('--request-id <id>', `${subject} whose request carried this X-Request-Id`)
      .option('--header <name:value>', `${subject} whose request carried this header value`);
  };
  if (headers === 'first') addHeaders();
  cmd
    .option('--model <name>', 'InferenceService name')
    .option('--namespace <ns>', 'Kubernetes namespace')
    .option('--component <c>', 'predictor, transformer, explainer')
    .option('--status <s>', '200, 4xx, 5xx, error, incomplete')
    .option('--since <t>', 'RFC 3339 or a duration back from now, e.g. 15m')
    .option('--until <t>', 'RFC 3339 or a duration back from now')
    .option('--q <text>', 'text in the request or response body')
    .option('--trace-id <id>', 'the exchanges of one W3C trace (32 hex digits)');
  if (headers === 'last') addHeaders();
  return cmd;
}

/** The flags as API parameters (undefined = not given), in the order addFilterFlags declares them. */
export function filterParams(f: FilterFlags, headers: HeaderFilters): Record<string, string | undefined> {
  const keys =
    headers === 'none'
      ? BASE_KEYS
      : headers === 'first'
        ? [...HEADER_KEYS, ...BASE_KEYS]
        : [...BASE_KEYS, ...HEADER_KEYS];
  return Object.fromEntries(keys.map((k) => [k, f[k]]));
}
