/**
 * Request body → one Buffer, bounded. Over the limit the request is refused with 413
 * (KServe answers 413 through its ASGI server's limit too) and the rest is drained, not kept.
 */
import type { IncomingMessage } from 'node:http';
import { InferlogError } from '../core/errors.js';

export const tooLarge = (limit: number): InferlogError =>
  // Connection: close, since the unread rest of the body would otherwise be parsed as the next request.
  new InferlogError('PAYLOAD_TOO_LARGE', `Request body is larger than the limit of ${limit} bytes`, {
    status: 413,
    headers: { connection: 'close' },
  });

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    req.resume();
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        req.off('data', onData);
        req.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}

/** Reads the request body at most once: a body handed over by capture is used as is (still bounded). */
export type BodyReader = () => Promise<Buffer>;

export function bodyReader(req: IncomingMessage, limit: number, preRead: Buffer | undefined): BodyReader {
  if (preRead !== undefined) {
    return () => (preRead.length > limit ? Promise.reject(tooLarge(limit)) : Promise.resolve(preRead));
  }
  return () => readBody(req, limit);
}
