/**
 * kafkajs error → InferlogError, so the pipeline's retry wrapper knows what to do:
 *
 *   connection refused / broker not found / metadata unavailable → SINK_UNREACHABLE (retryable)
 *   request timed out                                          → SINK_TIMEOUT (retryable)
 *   message too large, invalid topic, not authorised, …          → SINK_REJECTED (permanent)
 *   any other broker error                                     → SINK_SERVER_ERROR (retryable) unless kafkajs says it is not retriable
 *
 * kafkajs wraps the error that made it give up in KafkaJSNumberOfRetriesExceeded (`cause`),
 * so the chain is walked to the innermost error it knows.
 */
import { InferlogError } from '../../core/errors.js';

/** Broker error types (Kafka protocol error names) that no retry can fix. */
const PERMANENT_TYPES = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_TOPIC_EXCEPTION',
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'INVALID_REQUIRED_ACKS',
  'UNSUPPORTED_VERSION',
  'UNSUPPORTED_COMPRESSION_TYPE',
  'POLICY_VIOLATION',
]);

interface KafkaErrorLike {
  name?: unknown;
  message?: unknown;
  type?: unknown;
  retriable?: unknown;
  code?: unknown;
  cause?: unknown;
}

function asErrorLike(err: unknown): KafkaErrorLike | undefined {
  return typeof err === 'object' && err !== null ? (err as KafkaErrorLike) : undefined;
}

/** The error chain, outermost first (bounded: causes can be cyclic in theory). */
function chain(err: unknown): KafkaErrorLike[] {
  const out: KafkaErrorLike[] = [];
  let cur = asErrorLike(err);
  while (cur && out.length < 8 && !out.includes(cur)) {
    out.push(cur);
    cur = asErrorLike(cur.cause);
  }
  return out;
}

function tlsHint(errors: KafkaErrorLike[]): string {
  const tls = errors.some(
    (e) => typeof e.code === 'string' && /CERT|SELF_SIGNED|TLS|SSL|UNABLE_TO_VERIFY/.test(e.code),
  );
  return tls
    ? ' — TLS verification failed: set tls.caCertFile to the CA that signed the broker certificate, or tls.skipVerify'
    : '';
}

export function classifyKafkaError(err: unknown, target: string): InferlogError {
  if (err instanceof InferlogError) return err;
  const errors = chain(err);
  const text =
    errors
      .map((e) => String(e.message ?? ''))
      .filter(Boolean)
      .join(': ') || String(err);
  const names = new Set(errors.map((e) => String(e.name ?? '')));
  const protocolType = errors.map((e) => e.type).find((t): t is string => typeof t === 'string');

  if (protocolType !== undefined && PERMANENT_TYPES.has(protocolType)) {
    return new InferlogError('SINK_REJECTED', `${target} rejected the batch (${protocolType}): ${text}`, {
      cause: err,
    });
  }
  if (names.has('KafkaJSRequestTimeoutError')) {
    return new InferlogError('SINK_TIMEOUT', `${target} did not answer in time: ${text}`, { cause: err });
  }
  if (
    names.has('KafkaJSConnectionError') ||
    names.has('KafkaJSConnectionClosedError') ||
    names.has('KafkaJSBrokerNotFound') ||
    names.has('KafkaJSMetadataNotLoaded') ||
    names.has('KafkaJSTopicMetadataNotLoaded') ||
    errors.some(
      (e) =>
        typeof e.code === 'string' &&
        /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ETIMEDOUT)$|CERT|SELF_SIGNED|TLS|SSL|UNABLE_TO_VERIFY/.test(
          e.code,
        ),
    )
  ) {
    return new InferlogError('SINK_UNREACHABLE', `cannot reach ${target}: ${text}${tlsHint(errors)}`, {
      cause: err,
    });
  }
  if (protocolType !== undefined) {
    const innermost = errors.find((e) => e.type === protocolType);
    if (innermost?.retriable === false) {
      return new InferlogError('SINK_REJECTED', `${target} rejected the batch (${protocolType}): ${text}`, {
        cause: err,
      });
    }
    return new InferlogError('SINK_SERVER_ERROR', `${target} failed the batch (${protocolType}): ${text}`, {
      cause: err,
    });
  }
  return new InferlogError('SINK_UNREACHABLE', `cannot deliver to ${target}: ${text}`, { cause: err });
}
