/**
 * The batcher in `inferlog up`: between the in-process capture and the model server, as KServe's
 * agent puts it between its logger and the model, so each client exchange is logged with its answer:
 *
 *   captureInProcess(recorder, batchInProcess(batcher, handle))
 *     request ──▶ capture ──▶ :predict? ──yes──▶ batcher ──merged call──▶ model.invoke (no socket)
 *                                └──no──▶ handle (unchanged)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { noteBatch, type BodyHandler } from '../in-process.js';
import { predictPath, type BatchCodec, type BatcherAnswer, type V1Batcher } from './batcher.js';
import { parseV2, v2InferPath, V2_CODEC } from './v2.js';

function send(res: ServerResponse, a: BatcherAnswer): void {
  if (res.destroyed || res.headersSent) return;
  if (a.batch) noteBatch(res, a.batch);
  res.writeHead(a.status, a.headers);
  res.end(a.body);
}

/** Wraps a body-taking handler: `:predict` requests go through `batcher`, the rest to `next`. */
export function batchInProcess(batcher: V1Batcher, next: BodyHandler): BodyHandler {
  return (req: IncomingMessage, res: ServerResponse, body: Buffer | undefined): void => {
    // A body over the server's limit was not kept: the model server answers its 413.
    if (body === undefined) return next(req, res, body);
    const url = req.url ?? '/';
    const v2 = batcher.options.v2 === true ? v2InferPath(url) : undefined;
    if (v2 !== undefined) {
      const length = req.headers['inference-header-content-length'];
      const parsed = parseV2(body, Array.isArray(length) ? length[length.length - 1] : length);
      if (!parsed) return next(req, res, body);
      batcher
        .enqueue(`${v2}\n${parsed.signature}`, v2, V2_CODEC as BatchCodec, parsed.request, parsed.rows)
        .then(
          (a) => send(res, a),
          () => send(res, { status: 500, headers: {}, body: Buffer.alloc(0) }),
        );
      return;
    }
    const path = predictPath(url);
    if (path === undefined) return next(req, res, body);
    batcher.submit(path, body).then(
      (a) => send(res, a),
      () => send(res, { status: 500, headers: {}, body: Buffer.alloc(0) }),
    );
  };
}
