/**
 * Request cases for a V1 request batcher (KServe's `--enable-batcher`), to run against any agent
 * and compare: KServe's real agent (test/e2e/kserve-go-agent.test.ts) and ours (issue 15).
 *
 *   runBatcherCases(agentPort) ──▶ { case name: the answers, in request order }
 *   withoutBatchIds(result)    ──▶ the same, with every batchId replaced by its group number
 *
 * Two agents answer alike when `withoutBatchIds` gives equal results for cases whose batching
 * does not depend on timing (every case here except `overshoot`, whose grouping depends on
 * whether both requests arrive within maxLatency: compare its predictions only).
 * Written for an agent started with --max-batchsize 4 --max-latency 50 in front of
 * `simple-model` (y = 2x + 1).
 */

export interface RecordedAnswer {
  status: number;
  contentType: string | null;
  body: string;
}

export interface BatcherCase {
  name: string;
  /** Requests sent at the same moment (all in flight together). */
  requests: Array<{ method?: string; path: string; body?: string }>;
}

export const PREDICT = '/v1/models/simple-model:predict';

export const BATCHER_CASES: readonly BatcherCase[] = [
  // Alone: released by maxLatency, still answered in the batcher's shape.
  { name: 'single', requests: [{ path: PREDICT, body: '{"instances": [1.0, 2.0]}' }] },
  // 8 one-instance requests at once, max size 4: at least two model calls, each ≤ 4 instances.
  {
    name: 'eight-concurrent',
    requests: Array.from({ length: 8 }, (_, i) => ({ path: PREDICT, body: `{"instances":[${i}]}` })),
  },
  // 3 + 3 instances: the size check runs after a whole request is appended, so a batch can exceed 4.
  {
    name: 'overshoot',
    requests: [
      { path: PREDICT, body: '{"instances":[10,11,12]}' },
      { path: PREDICT, body: '{"instances":[20,21,22]}' },
    ],
  },
  // Other fields of the request are not forwarded: the model gets only {"instances":[…]}.
  { name: 'extra-fields', requests: [{ path: PREDICT, body: '{"instances":[5],"parameters":{"x":1}}' }] },
  // Rejected by the batcher itself, before the model.
  { name: 'not-json', requests: [{ path: PREDICT, body: '{"instances": [1.0,' }] },
  { name: 'no-instances', requests: [{ path: PREDICT, body: '{"instances":[]}' }] },
  { name: 'no-instances-key', requests: [{ path: PREDICT, body: '{"inputs":[1]}' }] },
  { name: 'instances-not-a-list', requests: [{ path: PREDICT, body: '{"instances":5}' }] },
  // The model answers non-200: every client of the batch gets 200 with the model's body as message.
  { name: 'model-404', requests: [{ path: '/v1/models/no-such-model:predict', body: '{"instances":[1]}' }] },
  { name: 'model-400', requests: [{ path: PREDICT, body: '{"instances":["a"]}' }] },
  // Paths not ending in :predict pass through unbatched, answered by the model as is.
  { name: 'metadata-get', requests: [{ method: 'GET', path: '/v1/models/simple-model' }] },
  {
    name: 'v2-infer',
    requests: [
      {
        path: '/v2/models/simple-model/infer',
        body: '{"id":"v2-1","inputs":[{"name":"x","shape":[2],"datatype":"FP32","data":[1,2]}]}',
      },
    ],
  },
];

async function send(port: number, r: BatcherCase['requests'][number]): Promise<RecordedAnswer> {
  const init: RequestInit = { method: r.method ?? 'POST' };
  if (r.body !== undefined) {
    init.body = r.body;
    init.headers = { 'content-type': 'application/json' };
  }
  const res = await fetch(`http://127.0.0.1:${port}${r.path}`, init);
  return { status: res.status, contentType: res.headers.get('content-type'), body: await res.text() };
}

/** Runs every case in turn; the requests of one case are sent together. */
export async function runBatcherCases(port: number): Promise<Record<string, RecordedAnswer[]>> {
  const out: Record<string, RecordedAnswer[]> = {};
  for (const c of BATCHER_CASES) out[c.name] = await Promise.all(c.requests.map((r) => send(port, r)));
  return out;
}

/**
 * batchIds are random UUIDs: replace each by `batch-N`, N numbering distinct ids in order of
 * first appearance within its case, so two runs compare equal when they grouped alike.
 */
export function withoutBatchIds(result: Record<string, RecordedAnswer[]>): Record<string, RecordedAnswer[]> {
  const out: Record<string, RecordedAnswer[]> = {};
  for (const [name, answers] of Object.entries(result)) {
    const seen = new Map<string, string>();
    out[name] = answers.map((a) => ({
      ...a,
      body: a.body.replace(/"batchId":"([0-9a-f-]{36})"/g, (_, id: string) => {
        if (!seen.has(id)) seen.set(id, `batch-${seen.size + 1}`);
        return `"batchId":"${seen.get(id) ?? ''}"`;
      }),
    }));
  }
  return out;
}
