import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { isInferlogError } from '../core/errors.js';
import { loadInferenceServices, parseInferenceServices } from './inferenceservice.js';
import { kserveFieldProblems } from './kserve-fields.js';

const root = path.resolve(import.meta.dirname, '../..');
// KServe's own sample YAML, copied into the repo (sources and licence in its README).
const samples = path.join(root, 'test/fixtures/kserve-samples');

function problemsOf(yamlText: string): string[] {
  try {
    parseInferenceServices(yamlText, 'isvc.yaml');
  } catch (e) {
    if (isInferlogError(e, 'CONFIG_INVALID')) return e.message.split('\n');
    throw e;
  }
  return [];
}

const isvc = (logger: string, annotations = ''): string => `apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: simple-model
${annotations}spec:
  predictor:
    logger:
${logger}
    model:
      modelFormat:
        name: onnx
      storageUri: ./models/simple-model
`;

describe('InferenceService YAML', () => {
  it('loads both example files with the modes the tutorial describes', () => {
    const [withLogging] = loadInferenceServices(
      path.join(root, 'examples/inferenceservice-with-logging.yaml'),
    );
    expect(withLogging?.name).toBe('simple-model');
    expect(withLogging?.namespace).toBe('kserve-test');
    expect(withLogging?.predictor.logger?.mode).toBe('request');
    expect(withLogging?.predictor.logger?.url).toBeUndefined();
    const [withResponses] = loadInferenceServices(
      path.join(root, 'examples/inferenceservice-with-response-logging.yaml'),
    );
    expect(withResponses?.predictor.logger?.mode).toBe('all');
  });

  it('examples use only fields of KServe’s InferenceService schema, so they apply unchanged to a cluster', () => {
    for (const file of readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.yaml'))) {
      for (const doc of parseAllDocuments(readFileSync(path.join(root, 'examples', file), 'utf8'))) {
        const value = doc.toJS() as { kind?: string };
        if (value?.kind !== 'InferenceService') continue;
        expect(kserveFieldProblems(value), file).toEqual([]);
      }
    }
  });

  it('accepts every KServe sample InferenceService with an http logger unchanged', () => {
    const dir = samples;
    let checked = 0;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
      const text = readFileSync(path.join(dir, file), 'utf8');
      if (/url:\s*(s3|gs|abfs):/.test(text) || !/kind:\s*"?InferenceService/.test(text)) continue;
      // KServe's torchserve sample is a template (`image: {username}/…`), not valid YAML: kubectl rejects it too.
      if (file.startsWith('torchserve')) {
        expect(() => parseInferenceServices(text, file)).toThrow(
          /torchserve-logger-kserve-samples\.yaml:13:26: \(yaml\)/,
        );
        continue;
      }
      const services = parseInferenceServices(text, file);
      for (const svc of services) {
        expect(svc.predictor.logger?.mode).toBe('all');
        expect(svc.predictor.logger?.url).toMatch(/^http:\/\//);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(3);
  });

  it('points at file:line:col with a fix for mode: RequestResponse', () => {
    const problems = problemsOf(isvc('      mode: RequestResponse'));
    expect(problems).toEqual([
      'isvc.yaml:8:7: spec.predictor.logger.mode: invalid mode "RequestResponse": use `all` to log requests and responses',
    ]);
  });

  it('lists the supported schemes for an unknown URL scheme', () => {
    const [ftp] = problemsOf(isvc('      mode: all\n      url: ftp://logs.example.com/'));
    expect(ftp).toMatch(
      /^isvc\.yaml:9:7: spec\.predictor\.logger\.url: unsupported URL scheme "ftp:"; supported schemes: .*stdout.*http.*https.*s3.*gs.*abfs/,
    );
  });

  it("accepts KServe 0.20's storage logger: s3://, gs://, abfs:// with logger.storage (issue 11)", () => {
    for (const url of [
      's3://bucket/logs',
      'gs://bucket/logs',
      'abfs://container@account.dfs.core.windows.net/logs',
    ]) {
      const text = isvc(
        `      mode: all\n      url: ${url}\n      storage:\n        path: /store\n` +
          `        parameters: {format: parquet}\n        key: default\n        serviceAccountName: logger-sa\n` +
          `      marshallerUrl: http://localhost:9083/marshal\n      batchSize: 10\n      batchInterval: 5s`,
      );
      expect([url, problemsOf(text)]).toEqual([url, []]);
      const [svc] = parseInferenceServices(text, 'isvc.yaml');
      expect(svc?.predictor.logger).toMatchObject({
        url,
        batchSize: 10,
        batchIntervalMs: 5000,
        // KServe's default marshaller URL is its embedded one: marshalled in-process.
        store: { path: '/store', format: 'parquet', key: 'default' },
      });
      expect(svc?.predictor.logger?.store?.marshallerUrl).toBeUndefined();
    }
  });

  it("checks logger.storage as KServe's webhook does: path, parameters and key all required, at file:line:col", () => {
    const problems = problemsOf(
      isvc('      url: s3://bucket/logs\n      storage:\n        serviceAccountName: sa'),
    );
    expect(problems).toEqual([
      expect.stringMatching(
        /^isvc\.yaml:9:7: spec\.predictor\.logger\.storage\.path: required when storage is set/,
      ),
      expect.stringMatching(
        /^isvc\.yaml:9:7: spec\.predictor\.logger\.storage\.parameters: required when storage is set/,
      ),
      expect.stringMatching(
        /^isvc\.yaml:9:7: spec\.predictor\.logger\.storage\.key: required when storage is set/,
      ),
    ]);
    const [format] = problemsOf(
      isvc(
        '      url: s3://b/l\n      storage:\n        path: x\n        key: k\n        parameters:\n          format: avro',
      ),
    );
    expect(format).toMatch(
      /^isvc\.yaml:13:11: spec\.predictor\.logger\.storage\.parameters\.format: invalid format "avro": must be one of json, csv, parquet/,
    );
    const [secret] = problemsOf(isvc('      url: s3://AKIAEXAMPLE:wJalrXUtn@bucket/logs'));
    expect(secret).toMatch(/logger\.url: credentials in the logger URL are not supported/);
    expect(secret).not.toMatch(/wJalrXUtn/);
    const [noContainer] = problemsOf(isvc('      url: abfs://account.dfs.core.windows.net/logs'));
    expect(noContainer).toMatch(/names no container/);
    const [marshaller] = problemsOf(isvc('      url: s3://b/l\n      marshallerUrl: ftp://m/'));
    expect(marshaller).toMatch(/logger\.marshallerUrl: the marshaller URL must be http:\/\/ or https:\/\//);
  });

  it('keeps a marshaller service of your own (logger.marshallerUrl) for the blob sink', () => {
    const [svc] = parseInferenceServices(
      isvc(
        '      url: s3://b/l\n      storage: {path: p, key: k, parameters: {format: csv}}\n' +
          '      marshallerUrl: http://marshaller.ns.svc:8080/marshal',
      ),
      'isvc.yaml',
    );
    expect(svc?.predictor.logger?.store).toEqual({
      path: 'p',
      format: 'csv',
      // storage.key: the storage-config entry `inferlog up --storage-config` reads.
      key: 'k',
      marshallerUrl: 'http://marshaller.ns.svc:8080/marshal',
    });
  });

  it('rejects unknown logger fields as the CRD does, and reports every problem at once', () => {
    const problems = problemsOf(isvc('      mode: all\n      batchSize: 0\n      sampleRate: 0.1'));
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).toMatch(/batchSize: must be at least 1/);
    expect(problems.join('\n')).toMatch(/sampleRate/);
  });

  it('rejects unknown fields at every level, with did-you-mean (issue 14: loger, storageURI)', () => {
    const text = `apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: simple-model
  namspace: kserve-test
spec:
  predictor:
    loger:
      mode: all
    minReplicas: 1
    containers:
      - name: kserve-container
        imagePullPolicy: IfNotPresent
        envv: []
    model:
      modelFormat:
        name: onnx
      storageURI: ./models/simple-model
`;
    expect(problemsOf(text)).toEqual([
      'isvc.yaml:5:3: metadata.namspace: unknown field "namspace" (did you mean "namespace"?)',
      'isvc.yaml:8:5: spec.predictor.loger: unknown field "loger" (did you mean "logger"?)',
      'isvc.yaml:14:9: spec.predictor.containers.0.envv: unknown field "envv" (did you mean "env"?)',
      'isvc.yaml:18:7: spec.predictor.model.storageURI: unknown field "storageURI" (did you mean "storageUri"?)',
    ]);
  });

  it('reports schema, field and annotation problems together, sorted by line', () => {
    const text = isvc(
      '      mode: all\n      metadataHeaders: X-Request-Id\n      batchSize: 0',
      '  annotations:\n    inferlog.dev/sample-rat: "0.25"\n',
    );
    const problems = problemsOf(text);
    expect(problems.map((p) => p.split(':').slice(1, 3).join(':'))).toEqual(['6:5', '11:7', '12:7']);
    expect(problems[0]).toMatch(/inferlog\.dev\/sample-rat: unknown inferlog annotation/);
    expect(problems[1]).toMatch(
      /^isvc\.yaml:11:7: spec\.predictor\.logger\.metadataHeaders: must be a list .*not the string "X-Request-Id"$/,
    );
    expect(problems[2]).toMatch(/batchSize: must be at least 1/);
    expect(problems.join('\n')).not.toMatch(/expected array|received string/);
  });

  it('validates inferlog.dev annotations and catches typos in their names', () => {
    const ok = parseInferenceServices(
      isvc(
        '      mode: all',
        '  annotations:\n    inferlog.dev/sample-rate: "0.25"\n    inferlog.dev/keep-slower-than: 500ms\n',
      ),
      'isvc.yaml',
    );
    expect(ok[0]?.predictor.logger?.sampling).toMatchObject({ rate: 0.25, keepSlowerThanMs: 500 });
    const bad = problemsOf(
      isvc(
        '      mode: all',
        '  annotations:\n    inferlog.dev/sample-rat: "0.25"\n    inferlog.dev/sample-rate: "2"\n',
      ),
    );
    expect(bad[0]).toMatch(
      /^isvc\.yaml:6:5: metadata\.annotations\.inferlog\.dev\/sample-rat: unknown inferlog annotation; known: .*inferlog\.dev\/sample-rate/,
    );
    expect(bad[1]).toMatch(/^isvc\.yaml:7:5: .*sample-rate: "2" is not a sample rate/);
  });

  it('reports YAML syntax errors with their position, and files with no InferenceService', () => {
    expect(problemsOf('kind: InferenceService\n  bad: [indent\n')[0]).toMatch(
      /^isvc\.yaml:\d+:\d+: \(yaml\): /,
    );
    expect(problemsOf('apiVersion: v1\nkind: Secret\n')).toEqual([
      'isvc.yaml:1:1: (document): no InferenceService (kind: InferenceService) in this file',
    ]);
  });
});

describe('semantic checks', () => {
  it('reports a bad redaction path at its annotation line', async () => {
    const { redactionCheck } = await import('../cli/service-checks.js');
    const text = isvc(
      '      mode: all',
      '  annotations:\n    inferlog.dev/redact-patterns: email\n    inferlog.dev/redact-json-paths: "ssn,instances[x"\n',
    );
    expect(() => parseInferenceServices(text, 'isvc.yaml', [redactionCheck])).toThrow(
      /^isvc\.yaml:7:5: metadata\.annotations\.inferlog\.dev\/redact-json-paths: invalid JSON path "instances\[x"/,
    );
  });

  it('layout exchanges needs a blob storage logger URL, reported at the annotation', () => {
    const ann = '  annotations:\n    inferlog.dev/blob-layout: exchanges\n';
    expect(problemsOf(isvc('      url: http://collector:8090/', ann)).join('\n')).toMatch(
      /isvc\.yaml:6:\d+: .*blob-layout.*must be s3:\/\/, gs:\/\/, abfs:\/\/ or a directory/,
    );
    expect(problemsOf(isvc('      url: file:///var/log/lake', ann))).toEqual([]);
  });
});
