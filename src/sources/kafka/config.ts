/**
 * The collector's Kafka source URL:
 *
 *   kafka://broker1:9092/inference-log?brokers=broker2:9092&group=inferlog-collector&from=earliest
 *
 * Brokers and topic as for the sink (src/transport/kafka-url.ts). `group` is the consumer
 * group: collectors with the same group share the topic's partitions. `from` says where a
 * group with no committed offsets starts.
 */
import { InferlogError } from '../../core/errors.js';
import { parseKafkaUrl, redact } from '../../transport/kafka-url.js';

export interface KafkaSourceConfig {
  brokers: string[];
  topic: string;
  group: string;
  fromBeginning: boolean;
  clientId: string;
}

const GROUP = /^[A-Za-z0-9._-]{1,200}$/;

export function parseKafkaSourceUrl(url: URL): KafkaSourceConfig {
  const rest = new URL(url.href);
  const group = rest.searchParams.get('group') ?? 'inferlog-collector';
  const from = rest.searchParams.get('from') ?? 'earliest';
  rest.searchParams.delete('group');
  rest.searchParams.delete('from');
  if (rest.searchParams.has('tls')) {
    throw new InferlogError(
      'CONFIG_INVALID',
      `${redact(url)}: tls is not supported for the Kafka source yet (plaintext listeners only)`,
    );
  }
  for (const producerOnly of ['acks', 'compression', 'idempotent']) {
    if (rest.searchParams.has(producerOnly)) {
      throw new InferlogError(
        'CONFIG_INVALID',
        `${redact(url)}: "${producerOnly}" is a sink parameter; a source takes brokers, group, from, clientId`,
      );
    }
  }
  if (!GROUP.test(group))
    throw new InferlogError(
      'CONFIG_INVALID',
      `${redact(url)}: group "${group}": letters, digits, ".", "_" and "-" only`,
    );
  if (from !== 'earliest' && from !== 'latest') {
    throw new InferlogError('CONFIG_INVALID', `${redact(url)}: from="${from}": use earliest or latest`);
  }
  const base = parseKafkaUrl(rest);
  return {
    brokers: base.brokers,
    topic: base.topic,
    group,
    fromBeginning: from === 'earliest',
    clientId: base.clientId,
  };
}
