/**
 * The blob sink: KServe 0.20's storage logger. `logger.url` s3://, gs:// or abfs://; objects
 * named, batched and marshalled as KServe's agent does (pkg/logger store.go, batch_*.go,
 * marshaller_*.go), so tools written for KServe's files read ours unchanged.
 *
 *   pipeline batch (≤ batchSize exchanges, or what arrived within batchInterval)
 *     ──recordsOf──▶ request + response records ──chunks of batchSize records──▶ marshal ──▶ put
 *                                                      one object per chunk, key from its first record
 *
 * Delivery is the pipeline's (spool, retry, loss counting). A send resolves once every object
 * of the batch is stored; a retried send writes the same keys again (the keys depend only on the
 * records), so a retry overwrites rather than duplicates.
 */
import type { Exchange } from '../../core/exchange.js';
import { InferlogError } from '../../core/errors.js';
import { openObjectStore } from '../../transport/object-store/open.js';
import type { ObjectStore } from '../../transport/object-store/object-store.js';
import type { Sink, SinkFactory } from '../sink.js';
import { externalMarshal } from './client.js';
import { blobSinkConfig, objectKey } from './config.js';
import { marshal, marshallerRequestBody, recordsOf, type LogRecord, type RecordContext } from './encoder.js';

/** KServe's `--logger-ca-cert-file` default: it lands in every record's `certName`. */
const KSERVE_DEFAULT_CERT_NAME = 'service-ca.crt';

export const createBlobSink: SinkFactory = (url, options) => {
  const config = blobSinkConfig(url, options);
  const ctx: RecordContext = {
    logUrl: config.logUrl,
    certName: options.tls.caCertFile ?? KSERVE_DEFAULT_CERT_NAME,
    tlsSkipVerify: options.tls.skipVerify,
  };
  const marshallerUrl = config.store.marshallerUrl;
  let opening: Promise<ObjectStore> | undefined;
  let closed = false;

  const open = (): Promise<ObjectStore> => {
    const credentials = config.store.credentials;
    opening ??= openObjectStore(config.location, credentials ? { credentials } : {});
    opening.catch(() => (opening = undefined));
    return opening;
  };

  const sink: Sink = {
    name: config.logUrl.replace(/\/\/[^@/]*@/, '//'),
    // One exchange makes up to two records; a batch of batchSize exchanges fills whole objects.
    maxBatch: config.recordsPerObject,
    async start() {
      if (closed) throw new InferlogError('SINK_UNREACHABLE', `${sink.name}: the sink was shut down`);
      await open();
    },
    async send(batch: readonly Exchange[], signal: AbortSignal) {
      if (batch.length === 0) return;
      if (closed) throw new InferlogError('SINK_UNREACHABLE', `${sink.name}: the sink was shut down`);
      const store = await open();
      const records: LogRecord[] = [];
      for (const ex of batch) for (const r of recordsOf(ex, ctx)) records.push(r);
      for (let i = 0; i < records.length; i += config.recordsPerObject) {
        const chunk = records.slice(i, i + config.recordsPerObject);
        const out = marshallerUrl
          ? await externalMarshal(marshallerUrl, marshallerRequestBody(chunk), signal)
          : await marshal(config.store.format, chunk);
        const key = objectKey(config, chunk[0] as LogRecord, out.extension);
        await store.put(key, out.data, { contentType: out.contentType, signal });
      }
    },
    async shutdown() {
      if (closed) return;
      closed = true;
      const store = await opening?.catch(() => undefined);
      await store?.close();
    },
  };
  return sink;
};
