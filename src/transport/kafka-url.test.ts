import { describe, expect, it } from 'vitest';
import { checkLoggerUrl } from '../config/logger-spec.js';
import { InferlogError } from '../core/errors.js';
import { kafkaUrlProblem, parseKafkaUrl } from './kafka-url.js';

const parse = (u: string) => parseKafkaUrl(new URL(u));

describe('kafka:// URL', () => {
  it('takes the broker from the authority and the topic from the path, with safe defaults', () => {
    expect(parse('kafka://broker1:9092/inference-log')).toEqual({
      brokers: ['broker1:9092'],
      topic: 'inference-log',
      acks: -1,
      compression: 'none',
      idempotent: true,
      clientId: 'inferlog',
      tls: false,
    });
    expect(parse('kafka://b:9093/t?tls=true').tls).toBe(true);
  });

  it('names further brokers with brokers=, and hosts without ports get the URL port or 9092', () => {
    expect(parse('kafka://b1:19092/t?brokers=b2:9093,[::1]:9094').brokers).toEqual([
      'b1:19092',
      'b2:9093',
      '[::1]:9094',
    ]);
    expect(parse('kafka://b1,b2,b3/t').brokers).toEqual(['b1:9092', 'b2:9092', 'b3:9092']);
  });

  it('reads acks, compression, idempotent and clientId', () => {
    const c = parse('kafka://b:9092/t?acks=1&compression=gzip&clientId=agent-7');
    expect(c).toMatchObject({ acks: 1, compression: 'gzip', idempotent: false, clientId: 'agent-7' });
    expect(parse('kafka://b:9092/t?idempotent=false').idempotent).toBe(false);
  });

  it.each([
    ['kafka://b:9092/', 'topic'],
    ['kafka://b:9092/a/b', 'topic'],
    ['kafka://b:9092/t?ack=all', 'unknown parameter(s) "ack"'],
    ['kafka://b:9092/t?acks=0', 'acks'],
    ['kafka://b:9092/t?compression=snappy', 'compression'],
    ['kafka://b:9092/t?acks=1&idempotent=true', 'idempotent=true needs acks=all'],
    ['kafka://b:9092/t?brokers=nohost', '"nohost" is not host:port'],
    ['kafka://user:secret@b:9092/t', 'credentials'],
    ['kafka://b:9092/t?acks=1&acks=all', 'given twice'],
  ])('rejects %s saying what is wrong', (url, problem) => {
    let caught: unknown;
    try {
      parse(url);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InferlogError);
    expect((caught as InferlogError).code).toBe('CONFIG_INVALID');
    expect((caught as InferlogError).message).toContain(problem);
    expect((caught as InferlogError).message).not.toContain('secret');
  });

  it('explains the comma host:port list, which is not a valid URL', () => {
    expect(kafkaUrlProblem('kafka://b1:9092,b2:9092/t')).toContain('brokers=');
    expect(kafkaUrlProblem('kafka://b1:9092/t')).toBeUndefined();
  });

  it('is what the logger config validator reports for kafka:// URLs', () => {
    expect(checkLoggerUrl('kafka://b1:9092/inference-log?acks=all')).toBeUndefined();
    expect(checkLoggerUrl('kafka://b1:9092/t?acks=0')).toContain('acks');
    expect(checkLoggerUrl('kafka://b1:9092,b2:9092/t')).toContain('brokers=');
  });
});
