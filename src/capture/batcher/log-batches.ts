/**
 * `inferlog.dev/log-batches`: the merged model call as an exchange of its own, beside the client
 * exchanges it answered, so the model's real latency and input size are visible.
 *
 *   batch released ──▶ model call ──▶ observer.batched(event) ──▶ Exchange {id: batch id, batch.position -1}
 *                                                                     └──▶ the same pipeline as the clients'
 */
import type { Exchange } from '../../core/exchange.js';
import { BodyCapture } from '../body-capture.js';
import type { Recorder } from '../recorder.js';
import type { BatchObserver } from './batcher.js';

function captured(rec: Recorder, keep: boolean, bytes: Buffer, contentType: string | undefined) {
  const c = new BodyCapture(rec.options.maxCaptureBytes, keep);
  c.push(bytes);
  return c.finish(contentType, undefined);
}

export function batchLogger(recorder: Recorder): BatchObserver {
  const o = recorder.options;
  return {
    batched(e) {
      const ex: Exchange = {
        id: e.id,
        source: o.source,
        mode: o.mode,
        method: 'POST',
        url: e.path,
        metadata: {},
        requestTime: e.startedAt,
        responseTime: e.endedAt,
        status: e.model.status,
        sampleWeight: 1,
        batch: { id: e.id, size: e.requests, position: -1 },
      };
      const request = captured(recorder, recorder.logsRequest, e.body, 'application/json');
      if (request) ex.request = request;
      if (e.error !== undefined) ex.error = { code: 'UPSTREAM_UNREACHABLE', message: e.error };
      else {
        const response = captured(recorder, recorder.logsResponse, e.model.body, e.model.contentType);
        if (response) ex.response = response;
      }
      o.submitter.submit(ex);
    },
  };
}
