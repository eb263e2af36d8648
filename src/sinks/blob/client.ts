/**
 * What the blob sink talks to: the object store its URL names, and, when the user points
 * `--log-marshaller-url` / `logger.marshallerUrl` at a marshaller service of their own, that service.
 *
 *   records ──marshal──▶ bytes + extension ──ObjectStore.put──▶ s3:// | gs:// | abfs://
 *              └─ external: POST JSON array of LogRequests ──▶ body + X-Log-Marshal-Extension (KServe's protocol)
 *
 * KServe's agent always marshals over HTTP, to an embedded marshaller it serves on
 * `--log-marshaller-port` (every interface, no auth) unless told otherwise. inferlog marshals
 * in-process instead (the same bytes, no open port) and speaks the HTTP protocol only to a
 * marshaller the user runs (marshaller_http.go: POST, Content-Type application/json, any 2xx,
 * extension from the answer's header, `json` when absent).
 */
import { InferlogError } from '../../core/errors.js';
import { classifyFailure, classifyStatus } from '../http/classify.js';
import type { Marshalled } from './encoder.js';

/** The largest marshalled object accepted from an external marshaller. */
export const MAX_MARSHALLED_BYTES = 512 * 1024 * 1024;
/** KServe's HTTPMarshaller client timeout. */
const MARSHALLER_TIMEOUT_MS = 30_000;
/** An extension becomes part of the object key: letters and digits only. */
const SAFE_EXTENSION = /^[A-Za-z0-9]{1,16}$/;

export async function externalMarshal(
  marshallerUrl: string,
  body: string,
  signal: AbortSignal,
): Promise<Marshalled> {
  const where = `log marshaller ${marshallerUrl}`;
  const timeout = AbortSignal.timeout(MARSHALLER_TIMEOUT_MS);
  const both = AbortSignal.any([signal, timeout]);
  let res: Response;
  try {
    res = await fetch(marshallerUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      redirect: 'manual',
      signal: both,
    });
  } catch (err) {
    throw classifyFailure(err, both, where);
  }
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > MAX_MARSHALLED_BYTES) {
    await res.body?.cancel();
    throw new InferlogError(
      'SINK_REJECTED',
      `${where} answered ${declared} bytes, over ${MAX_MARSHALLED_BYTES}`,
    );
  }
  let data: Uint8Array;
  try {
    data = new Uint8Array(await res.arrayBuffer());
  } catch (err) {
    throw classifyFailure(err, both, where);
  }
  const problem = classifyStatus(
    res.status,
    res.headers.get('retry-after') ?? undefined,
    where,
    Buffer.from(data.subarray(0, 200)).toString('utf8'),
  );
  if (problem) throw problem;
  const header = res.headers.get('x-log-marshal-extension') ?? '';
  const extension = header === '' ? 'json' : header;
  if (!SAFE_EXTENSION.test(extension))
    throw new InferlogError(
      'SINK_REJECTED',
      `${where} answered X-Log-Marshal-Extension "${extension.slice(0, 40)}": an extension is letters and digits`,
    );
  return { data, extension, contentType: res.headers.get('content-type') ?? 'application/octet-stream' };
}
