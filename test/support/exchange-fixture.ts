// The minimal valid Exchange tests start from: a 200 V1 predict of model `m`, no bodies.
import type { Exchange } from '../../src/core/exchange.js';

export function makeExchange(over: Partial<Exchange> = {}): Exchange {
  return {
    id: 'e1',
    source: {
      inferenceService: 'm',
      namespace: 'default',
      component: 'predictor',
      endpoint: '',
      sourceUri: 'http://localhost:9081/',
      annotations: {},
    },
    mode: 'all',
    method: 'POST',
    url: '/v1/models/m:predict',
    metadata: {},
    requestTime: 0,
    responseTime: 1,
    status: 200,
    sampleWeight: 1,
    ...over,
  };
}
