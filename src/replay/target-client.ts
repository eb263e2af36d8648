/**
 * Sends replayed requests to the target, and only to it.
 *
 *   PlannedRequest + body ──undici Pool(origin of --to, connections = concurrency)──▶ target
 *                         ◀── status, body bytes (decoded if the server compressed), latency
 *
 * An answer is read into at most 64 MiB, and decoded (gzip, deflate, br) into at most 64 MiB
 * more, with the agent's bounded decoder: a compression bomb from the target is reported as
 * UPSTREAM_TOO_LARGE, never inflated into gigabytes.
 *
 * The Pool is bound to one origin: whatever path a captured exchange carries, the request
 * cannot leave for another host. Failures are classified with the error catalogue's codes:
 * UPSTREAM_UNREACHABLE (nothing listening, DNS) stops the whole run; timeouts and resets are
 * counted per exchange.
 */
import { Pool } from 'undici';
import { decodeBounded } from '../core/bounded-decode.js';
import type { ErrorCode } from '../core/errors.js';
import type { PlannedRequest } from './request-plan.js';

/** Replayed answers bigger than this, on the wire or decoded, fail with UPSTREAM_TOO_LARGE. */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
const LIMIT_TEXT = '64 MiB';

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
        const header = (name: string): string | undefined => {
          const v = res.headers[name];
          return Array.isArray(v) ? v.join(', ') : v;
        };
        const tooLarge = (why: string): SendResult => ({
          ok: false,
          code: 'UPSTREAM_TOO_LARGE',
          message: `the answer ${why}`,
          latencyMs: elapsed(),
        });
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of res.body) {
          const c = chunk as Buffer;
          size += c.byteLength;
          if (size > MAX_RESPONSE_BYTES) {
            res.body.destroy();
            return tooLarge(`is more than ${LIMIT_TEXT}`);
          }
          chunks.push(c);
        }
        const latencyMs = elapsed();
        const raw = Buffer.concat(chunks, size);
        chunks.length = 0;
        const encoding = header('content-encoding');
        const decoded = decodeBounded(raw, encoding, MAX_RESPONSE_BYTES);
        if (!decoded.ok && decoded.reason === 'too-large')
          return tooLarge(`decodes to more than ${LIMIT_TEXT} (${encoding})`);
        return {
          ok: true,
          status: res.statusCode,
          // Unknown or corrupt encoding: the bytes as they came (the comparison shows the difference).
          body: decoded.ok ? decoded.bytes : raw,
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
