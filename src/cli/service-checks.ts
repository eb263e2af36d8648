// Checks beyond the schema, reported at the YAML line they concern (see config/inferenceservice.ts).
import type { ServiceCheck } from '../config/inferenceservice.js';
import { ANNOTATION_PREFIX } from '../config/annotations.js';
import { credentialProblems } from '../config/credential-files.js';
import { redactionProblems } from '../pipeline/redaction/index.js';
import { modelFormatNeedsStorage, resolveModelPath, SUPPORTED_MODEL_FORMATS } from '../model-server/index.js';

const ANNOTATION_OF_FIELD = {
  jsonPaths: 'redact-json-paths',
  patterns: 'redact-patterns',
  marker: 'redact-marker',
} as const;

/** Redaction rules compile (JSON paths parse, regexes are valid): each problem at its annotation. */
export const redactionCheck: ServiceCheck = (svc) => {
  // Annotations are per InferenceService, so every component's logger has the same rules: check one.
  const logger = [svc.predictor, ...svc.others].find((c) => c.logger)?.logger;
  if (!logger) return [];
  return redactionProblems(logger.redaction).map((p) => ({
    path: ['metadata', 'annotations', ANNOTATION_PREFIX + ANNOTATION_OF_FIELD[p.field]],
    message: p.message,
  }));
};

/** `inferlog up` can serve the predictor: a supported modelFormat whose storageUri is a local file. */
export const servableCheck: ServiceCheck = (svc) => {
  const model = svc.predictor.model;
  if (!model) {
    return [
      {
        path: ['spec', 'predictor'],
        message:
          'inferlog up serves `model: {modelFormat: {name: onnx}, storageUri: …}` predictors; for another server, run it yourself and put `inferlog agent` in front of it',
      },
    ];
  }
  if (!SUPPORTED_MODEL_FORMATS.includes(model.modelFormat)) {
    return [
      {
        path: ['spec', 'predictor', 'model', 'modelFormat', 'name'],
        message: `inferlog up cannot serve modelFormat "${model.modelFormat}"; it serves: ${SUPPORTED_MODEL_FORMATS.join(', ')}`,
      },
    ];
  }
  if (model.storageUri === undefined || model.storageUri === '') {
    if (!modelFormatNeedsStorage(model.modelFormat)) return [];
    // What `inferlog up` would stop on: found here, so `validate --serve` and `up` agree.
    return [
      {
        path: ['spec', 'predictor', 'model'],
        message: `storageUri is required to serve modelFormat "${model.modelFormat}" locally: the model file or its directory, e.g. storageUri: ./models/simple-model`,
      },
    ];
  }
  try {
    resolveModelPath(model.storageUri, svc.baseDir);
    return [];
  } catch (e) {
    return [{ path: ['spec', 'predictor', 'model', 'storageUri'], message: (e as Error).message }];
  }
};

/**
 * The sink's credential files (inferlog.dev/log-token-file, log-client-cert/-key, log-ca-cert) can be
 * read, hold one token, and the key is the certificate's. Only where `up` runs: a plain `validate`
 * of YAML for a cluster cannot see the Secrets mounted there.
 */
export const credentialFilesCheck: ServiceCheck = (svc) => {
  const logger = [svc.predictor, ...svc.others].find((c) => c.logger)?.logger;
  if (!logger) return [];
  const { clientCertFile, clientKeyFile } = logger.tls;
  // A lone half of the pair is already reported by the annotation check (config/inferenceservice.ts).
  const pair = clientCertFile !== undefined && clientKeyFile !== undefined;
  return credentialProblems({
    tokenFile: logger.tokenFile,
    caCertFile: logger.tls.caCertFile,
    ...(pair ? { clientCertFile, clientKeyFile } : {}),
  }).map((p) => ({ path: ['metadata', 'annotations', ANNOTATION_PREFIX + p.field], message: p.message }));
};

/** What `inferlog up` checks before it starts, and `validate --serve` runs the very same list. */
export const SERVE_CHECKS = [redactionCheck, servableCheck, credentialFilesCheck] as const;
