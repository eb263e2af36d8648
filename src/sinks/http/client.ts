/**
 * The HTTP client: one undici Pool of keep-alive connections to the sink's origin.
 *
 *   post(headers, body, signal) ──▶ Pool (≤ connections sockets, keep-alive) ──▶ destination
 *        ◀── resolve on 2xx, reject with a classified InferlogError otherwise
 *
 * With a token file, each POST carries `Authorization: Bearer <token>`, the file re-read when it
 * changes (transport/bearer-token-file.ts); with a client certificate, new connections present the
 * one in force (transport/tls.ts, clientTlsSource). Every answer body is drained (so the socket goes
 * back to the pool); for a failure the first bytes are kept for the error message. undici's own
 * headers/body timeouts are a backstop at the send timeout; the caller's AbortSignal is what
 * normally stops a send.
 */
import { Pool, buildConnector } from 'undici';
import type { InferlogError } from '../../core/errors.js';
import { classifyFailure, classifyStatus } from './classify.js';
import type { HttpSinkConfig } from './config.js';
import { clientTlsSource, type ClientTlsSource } from '../../transport/tls.js';
import { bearerTokenFile } from '../../transport/bearer-token-file.js';

const DETAIL_BYTES = 256;
const DRAIN_LIMIT = 64 * 1024;

export interface HttpClient {
  /** Resolves on 2xx; rejects with a SINK_* InferlogError. */
  post(headers: string[], body: Uint8Array | string | undefined, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/**
 * Reads the first bytes of a failed answer for the error message. The rest is drained too, up
 * to DRAIN_LIMIT, so the connection goes back to the pool; a bigger answer closes it instead.
 */
async function detailOf(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  let text = '';
  let seen = 0;
  try {
    for await (const chunk of body) {
      if (text.length < DETAIL_BYTES)
        text += chunk.toString('utf8', 0, Math.min(chunk.length, DETAIL_BYTES - text.length));
      seen += chunk.length;
      if (seen > DRAIN_LIMIT) {
        body.destroy();
        break;
      }
    }
  } catch {
    // the detail is a courtesy; the status already classified the failure
  }
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * Dials with the TLS options in force: a renewed client certificate (clientTlsSource) makes a new
 * undici connector, used from the next connection on.
 */
function renewingConnector(source: ClientTlsSource, timeout: number): buildConnector.connector {
  let version = -1;
  let connector: buildConnector.connector | undefined;
  return (options, callback) => {
    const now = source.current();
    if (connector === undefined || now.version !== version) {
      connector = buildConnector({ ...now.options, timeout });
      version = now.version;
    }
    connector(options, callback);
  };
}

export async function createHttpClient(config: HttpSinkConfig): Promise<HttpClient> {
  const connectTimeout = Math.min(config.timeoutMs, 10_000);
  const connect = config.https
    ? renewingConnector(await clientTlsSource(config.tls), connectTimeout)
    : { timeout: connectTimeout };
  const token = config.tokenFile !== undefined ? bearerTokenFile(config.tokenFile) : undefined;
  const pool = new Pool(config.origin, {
    connections: config.connections,
    pipelining: 1,
    headersTimeout: config.timeoutMs,
    bodyTimeout: config.timeoutMs,
    connect,
  });
  const where = config.origin + config.path;
  return {
    async post(headers, body, signal) {
      let res;
      try {
        const sent = token ? [...headers, 'authorization', `Bearer ${await token.current()}`] : headers;
        res = await pool.request({ path: config.path, method: 'POST', headers: sent, body, signal });
      } catch (err) {
        throw classifyFailure(err, signal, where);
      }
      if (res.statusCode >= 200 && res.statusCode < 300) {
        try {
          await res.body.dump();
        } catch {
          // the event was accepted; a broken answer body does not undo that
        }
        return;
      }
      // Refused credentials: perhaps the Secret was rotated a moment ago; look at the file now.
      if (res.statusCode === 401) token?.recheckSoon();
      const detail = await detailOf(res.body);
      throw classifyStatus(res.statusCode, res.headers['retry-after'], where, detail) as InferlogError;
    },
    async close() {
      await pool.close().catch(() => pool.destroy());
    },
  };
}
