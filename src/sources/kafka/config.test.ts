import { describe, expect, it } from 'vitest';
import { parseKafkaSourceUrl } from './config.js';

describe('kafka source URL', () => {
  it('reads brokers, topic, group and start position, with defaults', () => {
    expect(parseKafkaSourceUrl(new URL('kafka://b1:9092/inference-log?brokers=b2:9093'))).toEqual({
      brokers: ['b1:9092', 'b2:9093'],
      topic: 'inference-log',
      group: 'inferlog-collector',
      fromBeginning: true,
      clientId: 'inferlog',
    });
    expect(parseKafkaSourceUrl(new URL('kafka://b1/t?group=eu-collectors&from=latest'))).toMatchObject({
      group: 'eu-collectors',
      fromBeginning: false,
    });
  });

  it.each([
    ['kafka://b1/t?from=now', 'use earliest or latest'],
    ['kafka://b1/t?group=a%20b', 'group "a b"'],
    ['kafka://b1/t?acks=all', 'sink parameter'],
    ['kafka://b1/?group=g', 'topic'],
    ['kafka://b1/t?tls=true', 'not supported'],
  ])('rejects %s', (url, problem) => {
    expect(() => parseKafkaSourceUrl(new URL(url))).toThrow(problem);
  });
});
