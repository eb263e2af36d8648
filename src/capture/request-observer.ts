/**
 * Feeds the per-model request metrics (pipeline/request-metrics.ts) from a server's requests,
 * whether or not logging is on:
 *
 *   request ──modelLabel(url, configured names)──▶ bound series ──res close──▶ observe
 *
 * The model label is a configured name or `UNMATCHED_MODEL`: the client's path only selects
 * among names the configuration already holds, so it can never add a label value.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { nowMs } from '../core/time.js';
import { UNMATCHED_MODEL } from '../core/exchange.js';
import { modelInPath } from '../core/model-in-path.js';
import {
  type BoundRequestMetrics,
  type RequestLabels,
  type RequestMetrics,
} from '../pipeline/request-metrics.js';

export interface ModelRoutes {
  /** The models the configuration serves: the only values the model label takes, besides UNMATCHED_MODEL. */
  models: readonly string[];
  /** The model OpenAI-style paths (`/openai/…`, which name theirs in the body) are counted under. */
  openaiModel?: string;
}

/** A configured model name, or UNMATCHED_MODEL: never a string the client made up. */
export function modelLabelOf(url: string, routes: ModelRoutes): string {
  const named = modelInPath(url);
  if (named !== undefined) return routes.models.includes(named) ? named : UNMATCHED_MODEL;
  if (routes.openaiModel !== undefined && /^\/openai\//.test(url)) return routes.openaiModel;
  return UNMATCHED_MODEL;
}

/** Where a configured model is served: its service, namespace and component (all configuration). */
export type ServedAt = Omit<RequestLabels, 'model'>;

/**
 * Returns a request listener that times each request and observes it once its response
 * finishes (or its connection closes first: `aborted`). Series are bound per model up front;
 * requests for no configured model count under `unmatched` (the service that answers them).
 */
export function requestObserver(
  metrics: RequestMetrics,
  served: ReadonlyMap<string, ServedAt>,
  unmatched: ServedAt,
  openaiModel?: string,
  /**
   * The model the server decided a request was for, known only once its body was read (OpenAI
   * routes name it there); read when the response finishes. Undefined: decided from the path.
   */
  decidedModel?: (req: IncomingMessage) => string | undefined,
): (req: IncomingMessage, res: ServerResponse) => void {
  const routes: ModelRoutes = { models: [...served.keys()], openaiModel };
  const series = new Map<string, BoundRequestMetrics>();
  for (const [model, at] of served) series.set(model, metrics.bind({ ...at, model }));
  const other = metrics.bind({ ...unmatched, model: UNMATCHED_MODEL });
  return (req, res) => {
    const start = nowMs();
    // One listener, not one for 'finish' and one for 'close': a response emits 'close' once,
    // after 'finish' when it completed, and writableFinished says which it was. This runs on
    // every request, logging on or off (BENCHMARKS.md, "Where the agent's CPU goes").
    res.once('close', () => {
      const model = decidedModel?.(req) ?? modelLabelOf(req.url ?? '/', routes);
      const bound = series.get(model) ?? other;
      bound.observe(res.statusCode, res.writableFinished, Math.max(0, (nowMs() - start) / 1000));
    });
  };
}
