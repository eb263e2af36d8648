/**
 * Sends replayed requests to the target, and only to it.
 *
 *   PlannedRequest + body ──undici Pool(origin of --to, connections = concurrency)──▶ target
 *                         ◀── status, body bytes (decoded if the server compressed), latency
 *
 * The Pool is bound to one origin: whatever path a captured exchange carries, the request
 * cannot leave for another host. Failures are classified with the error catalogue's codes:
 * UPSTREAM_UNREACHABLE (nothing listening, DNS) stops the whole run; timeouts and resets are
 * counted per exchange.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { Pool } from 'undici';
import type { ErrorCode } from '../core/errors.js';
import type { PlannedRequest } from './request-plan.js';

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const brotli = promisify(zlib.brotliDecompress);

/** Replayed answers bigger than this are cut (the comparison then reports the size difference). */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export type SendResult =
  | { ok: true; status: number; body: Uint8Array; contentType: string | null; latencyMs: number }
  | { ok: false; code: ErrorCode; message: string; latencyMs: number };

export interface TargetClient {
  send(req: PlannedRequest, body: Uint8Array): Promise<SendResult>;
  close(): Promise<void>;
}

function classify(err: unknown, timeoutMs: number): { code: ErrorCode; message: string } {
  const e = err as {
    code?: string;
    name?: string;
    message?: string;
    cause?: { code?: string; message?: string };
  };
  const code = e.code ?? e.cause?.code ?? '';
  const text = e.cause?.message ?? e.message ?? String(err);
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || /TIMEOUT/.test(code)) {
    if (code === 'UND_ERR_CONNECT_TIMEOUT')
      return { code: 'UPSTREAM_UNREACHABLE', message: `connect timeout: ${text}` };
    return { code: 'UPSTREAM_TIMEOUT', message: `no complete answer within ${timeoutMs} ms` };
  }
  if (
    ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL'].includes(code)
  ) {
    return { code: 'UPSTREAM_UNREACHABLE', message: text };
  }
  return { code: 'UPSTREAM_RESET', message: text };
}

async function decode(body: Buffer, encoding: string | undefined): Promise<Buffer> {
  switch ((encoding ?? '').trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return gunzip(body);
    case 'deflate':
      return inflate(body);
    case 'br':
      return brotli(body);
    default:
      return body;
  }
}

export function createTargetClient(to: URL, opts: { connections: number; timeoutMs: number }): TargetClient {
  const pool = new Pool(to.origin, { connections: opts.connections, pipelining: 1 });
  const prefix = to.pathname.replace(/\/+$/, '');
  return {
    async send(req, body) {
      const started = performance.now();
      const elapsed = (): number => Math.round((performance.now() - started) * 1000) / 1000;
      try {
        const res = await pool.request({
          method: req.method as 'POST',
          path: prefix + req.path,
          headers: req.headers,
          body: body.byteLength > 0 || !['GET', 'HEAD'].includes(req.method) ? body : null,
          signal: AbortSignal.timeout(opts.timeoutMs),
          headersTimeout: opts.timeoutMs,
          bodyTimeout: opts.timeoutMs,
        });
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of res.body) {
          const c = chunk as Buffer;
          if (size + c.byteLength > MAX_RESPONSE_BYTES) {
            chunks.push(c.subarray(0, MAX_RESPONSE_BYTES - size));
            size = MAX_RESPONSE_BYTES;
            res.body.destroy();
            break;
          }
          chunks.push(c);
          size += c.byteLength;
        }
        const latencyMs = elapsed();
        const header = (name: string): string | undefined => {
          const v = res.headers[name];
          return Array.isArray(v) ? v.join(', ') : v;
        };
        let bytes: Buffer = Buffer.concat(chunks);
        try {
          bytes = await decode(bytes, header('content-encoding'));
        } catch {
          // Leave the bytes as they came: the comparison will show the difference.
        }
        return {
          ok: true,
          status: res.statusCode,
          body: bytes,
          contentType: header('content-type') ?? null,
          latencyMs,
        };
      } catch (err) {
        return { ok: false, ...classify(err, opts.timeoutMs), latencyMs: elapsed() };
      }
    },
    close: () => pool.close(),
  };
}
