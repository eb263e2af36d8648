// One exchange as KServe's agent logs it (its exact wire format), as an Exchange, and the headers it sends for it.
import type { Exchange, ExchangeSource } from '../../src/core/exchange.js';

const enc = new TextEncoder();
export const REQUEST_BODY = '{"instances": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]}';
export const RESPONSE_BODY = '{"predictions":[1,1]}';
export const SCENARIO_ID = '0c1d9e6a-5f0b-4d57-8a0e-6b1f2e3c4d5a';

export const SCENARIO_SOURCE: ExchangeSource = {
  inferenceService: 'sklearn-iris',
  namespace: 'default',
  component: 'predictor',
  endpoint: '',
  sourceUri: 'http://localhost:9081/',
  annotations: { 'team.example.com/owner': 'ml-platform' },
};

/** 2026-08-21T10:15:30.001873512Z and 2026-08-21T10:15:30.012904330Z as epoch ms with fraction. */
export const REQUEST_TIME = Date.UTC(2026, 7, 21, 10, 15, 30, 1) + 0.873512;
export const RESPONSE_TIME = Date.UTC(2026, 7, 21, 10, 15, 30, 12) + 0.90433;

export function scenarioExchange(overrides: Partial<Exchange> = {}): Exchange {
  return {
    id: SCENARIO_ID,
    source: SCENARIO_SOURCE,
    mode: 'all',
    method: 'POST',
    url: '/v1/models/sklearn-iris:predict',
    metadata: { 'X-Request-Id': ['7f3c2a1e-0b6d-4a3e-9c1f-2d5e8b7a6c40'] },
    requestTime: REQUEST_TIME,
    responseTime: RESPONSE_TIME,
    request: { bytes: enc.encode(REQUEST_BODY), contentType: 'application/json', size: 59, truncated: false },
    status: 200,
    response: {
      bytes: enc.encode(RESPONSE_BODY),
      contentType: 'application/json',
      size: 21,
      truncated: false,
    },
    sampleWeight: 1,
    ...overrides,
  };
}

/**
 * The KServe headers of each event, verbatim from wire-examples.txt (Host, User-Agent, Content-Length and
 * Accept-Encoding are the HTTP client's; Ce-Recordedtime is "now" and Ce-Time is checked below).
 */
export const KSERVE_REQUEST_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['Ce-Annotations', '{"team.example.com/owner":"ml-platform"}'],
  ['Ce-Component', 'predictor'],
  ['Ce-Endpoint', ''],
  ['Ce-Id', SCENARIO_ID],
  ['Ce-Inferenceservicename', 'sklearn-iris'],
  ['Ce-Metadata', '{"X-Request-Id":["7f3c2a1e-0b6d-4a3e-9c1f-2d5e8b7a6c40"]}'],
  ['Ce-Namespace', 'default'],
  ['Ce-Source', 'http://localhost:9081/'],
  ['Ce-Specversion', '1.0'],
  ['Ce-Type', 'org.kubeflow.serving.inference.request'],
  ['Content-Type', 'application/json'],
];

export const KSERVE_RESPONSE_HEADERS: ReadonlyArray<readonly [string, string]> = KSERVE_REQUEST_HEADERS.map(
  ([k, v]) =>
    k === 'Ce-Type' ? (['Ce-Type', 'org.kubeflow.serving.inference.response'] as const) : ([k, v] as const),
);

/**
 * Ce-Time of each event. Epoch-ms doubles hold ~0.2 µs, so the nanosecond digits of the
 * example cannot survive; the microseconds must.
 */
export const REQUEST_TIME_PREFIX = '2026-08-21T10:15:30.001873';
export const RESPONSE_TIME_PREFIX = '2026-08-21T10:15:30.012904';
export const RFC3339_NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;
