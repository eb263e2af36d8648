/**
 * What one replay run is asked to do: validated, typed options. The CLI builds them from its
 * flags (src/cli/replay-flags.ts), so flag names and usage errors stay in the CLI.
 */
import type { CollectorRef } from '../api/client.js';

export type CompareMode = 'exact' | 'json' | 'none';
export type OutputFormat = 'table' | 'json' | 'jsonl';

/** A header to send: a fixed value, or (value undefined) the captured metadata value of that name. */
export interface HeaderRule {
  name: string;
  value?: string;
}

export interface PathRewrite {
  from: string;
  to: string;
}

export interface ReplayOptions {
  from: string;
  /** `from` with the credentials to read it (token, TLS); without it, `from` is asked with none. */
  source?: CollectorRef;
  /** The only place requests are sent: origin (+ optional path prefix) of the target. */
  to: URL;
  filter: {
    model?: string;
    namespace?: string;
    component?: string;
    status?: string;
    since?: string;
    until?: string;
    q?: string;
  };
  /** How many exchanges to replay at most. */
  limit: number;
  /** Path template for exchanges captured without a URL (KServe's agent); `{model}` is the ISVC name. */
  path: string;
  pathRewrites: PathRewrite[];
  renameModel?: string;
  concurrency: number;
  /** Requests per second; undefined = as fast as concurrency allows. */
  ratePerSecond?: number;
  timeoutMs: number;
  compare: CompareMode;
  tolerance: number;
  /** Normalised JSON paths (`[*]` for indices) left out of the comparison. */
  ignore: string[];
  headers: HeaderRule[];
  /** Send `Ce-Id: replay-<original id>` (default true). */
  replayId: boolean;
  /** Re-send captured methods and paths that are not inference routes (default false: skipped). */
  anyRoute: boolean;
  dryRun: boolean;
  format: OutputFormat;
  report?: string;
}
