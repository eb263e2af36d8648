/**
 * The OTLP exporters' transport: one export request, answered or classified.
 *
 *   otlp+http(s) ─▶ POST {origin}{path}  Content-Type application/x-protobuf   (the http sink's pooled client)
 *   otlp+grpc    ─▶ HTTP/2 POST {GRPC_LOGS_PATH}  application/grpc, one length-prefixed message, grpc-status in trailers
 *
 * Failures become the same SINK_* errors as every other sink, following the OTLP spec's
 * retryable sets: HTTP 429/502/503/504 and gRPC CANCELLED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED,
 * ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS may be retried; anything else is permanent.
 */
import http2 from 'node:http2';
import { InferlogError } from '../../core/errors.js';
import { classifyFailure } from '../http/classify.js';
import { createHttpClient } from '../http/client.js';
import type { OtlpSinkConfig } from './config.js';
import type { SinkOptions } from '../sink.js';

export interface OtlpClient {
  /** Resolves when the receiver accepted the export; rejects with a SINK_* InferlogError. */
  export(body: Uint8Array, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

export async function createOtlpClient(
  config: OtlpSinkConfig,
  options: Pick<SinkOptions, 'timeoutMs' | 'tls' | 'tokenFile'>,
): Promise<OtlpClient> {
  return config.protocol === 'grpc' ? createGrpcClient(config) : createOtlpHttpClient(config, options);
}

async function createOtlpHttpClient(
  config: OtlpSinkConfig,
  options: Pick<SinkOptions, 'timeoutMs' | 'tls' | 'tokenFile'>,
): Promise<OtlpClient> {
  const client = await createHttpClient({
    origin: config.origin,
    path: config.path,
    https: config.protocol === 'https',
    batched: true,
    maxBatch: 1,
    timeoutMs: options.timeoutMs,
    connections: 2,
    tls: {
      caCertFile: options.tls.caCertFile,
      skipVerify: options.tls.skipVerify,
      clientCertFile: options.tls.clientCertFile,
      clientKeyFile: options.tls.clientKeyFile,
    },
    tokenFile: options.tokenFile,
  });
  const headers = ['content-type', 'application/x-protobuf'];
  for (const [k, v] of Object.entries(config.headers)) headers.push(k, v);
  return {
    export: (body, signal) => client.post(headers, body, signal),
    close: () => client.close(),
  };
}

/** gRPC status codes the OTLP spec says a client may retry. */
const GRPC_RETRYABLE = new Set([1, 4, 10, 11, 14, 15]);
const GRPC_RESOURCE_EXHAUSTED = 8;

function grpcError(status: number, message: string, where: string): InferlogError {
  const what = `${where} answered gRPC status ${status}${message ? `: ${message}` : ''}`;
  if (status === GRPC_RESOURCE_EXHAUSTED) return new InferlogError('SINK_THROTTLED', what);
  if (status === 4) return new InferlogError('SINK_TIMEOUT', what);
  if (GRPC_RETRYABLE.has(status)) return new InferlogError('SINK_SERVER_ERROR', what);
  return new InferlogError('SINK_REJECTED', what);
}

function createGrpcClient(config: OtlpSinkConfig): OtlpClient {
  const where = config.origin.replace(/^http/, 'otlp+grpc');
  let session: http2.ClientHttp2Session | undefined;
  const connect = (): http2.ClientHttp2Session => {
    if (session !== undefined && !session.closed && !session.destroyed) return session;
    const s = http2.connect(config.origin);
    // A broken session fails its streams (classified there); it must never crash the process.
    s.on('error', () => undefined);
    s.on('close', () => {
      if (session === s) session = undefined;
    });
    s.unref();
    session = s;
    return s;
  };
  return {
    export(body, signal) {
      return new Promise<void>((resolve, reject) => {
        if (signal.aborted) {
          reject(classifyFailure(signal.reason, signal, where));
          return;
        }
        let stream: http2.ClientHttp2Stream;
        try {
          stream = connect().request(
            {
              ':method': 'POST',
              ':path': config.path,
              'content-type': 'application/grpc',
              te: 'trailers',
              ...config.headers,
            },
            { signal },
          );
        } catch (err) {
          reject(classifyFailure(err, signal, where));
          return;
        }
        let httpStatus = 0;
        let grpcStatus: number | undefined;
        let grpcMessage = '';
        const readStatus = (h: http2.IncomingHttpHeaders): void => {
          const st = h['grpc-status'];
          if (st !== undefined) grpcStatus = Number(st);
          const m = h['grpc-message'];
          if (typeof m === 'string') grpcMessage = decodeURIComponent(m).slice(0, 256);
        };
        stream.on('response', (h) => {
          httpStatus = Number(h[':status']);
          readStatus(h);
        });
        stream.on('trailers', readStatus);
        stream.on('data', () => undefined);
        stream.on('error', (err) => reject(classifyFailure(err, signal, where)));
        stream.on('close', () => {
          if (httpStatus === 0) {
            // Internal: classifyFailure turns it into the catalogued SINK_* error.
            const noAnswer = new Error('the stream closed without an answer');
            reject(classifyFailure(noAnswer, signal, where));
          } else if (httpStatus !== 200)
            reject(
              new InferlogError('SINK_REJECTED', `${where} answered HTTP ${httpStatus} (not a gRPC server?)`),
            );
          else if (grpcStatus === undefined)
            reject(new InferlogError('SINK_SERVER_ERROR', `${where} ended the call without a grpc-status`));
          else if (grpcStatus !== 0) reject(grpcError(grpcStatus, grpcMessage, where));
          else resolve();
        });
        // One message: compressed-flag 0, 4-byte big-endian length, the protobuf bytes.
        const frame = Buffer.allocUnsafe(5 + body.byteLength);
        frame[0] = 0;
        frame.writeUInt32BE(body.byteLength, 1);
        frame.set(body, 5);
        stream.end(frame);
      });
    },
    async close() {
      const s = session;
      session = undefined;
      if (s && !s.closed) await new Promise<void>((r) => s.close(() => r()));
    },
  };
}
