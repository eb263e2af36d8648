/**
 * storageUri → a local model file. KServe's storage initializer downloads gs://, s3://,
 * https://… into the pod; without a cluster there is nothing to download with, so only
 * local paths are served and anything else gets a message saying what to do instead.
 */
import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InferlogError } from '../core/errors.js';

const REMOTE = /^([a-z][a-z0-9+.-]*):\/\//i;

/**
 * Accepts `file:///abs/path`, an absolute path, a path relative to `baseDir` (the YAML
 * file's directory), a directory holding `model.onnx` (or exactly one `.onnx` file), or a
 * model file. Throws CONFIG_INVALID whose message tells the user what to change.
 */
export function resolveModelPath(storageUri: string, baseDir: string): string {
  const uri = storageUri.trim();
  if (uri === '') {
    throw new InferlogError(
      'CONFIG_INVALID',
      'storageUri is empty: set it to the model file or its directory, e.g. storageUri: ./models/iris',
    );
  }
  let path: string;
  const scheme = REMOTE.exec(uri)?.[1]?.toLowerCase();
  if (scheme === 'file') {
    try {
      path = fileURLToPath(uri);
    } catch (err) {
      throw new InferlogError(
        'CONFIG_INVALID',
        `storageUri '${uri}' is not a valid file:// URI (${(err as Error).message}); use file:///absolute/path`,
      );
    }
  } else if (scheme !== undefined) {
    throw new InferlogError(
      'CONFIG_INVALID',
      `storageUri '${uri}' needs a cluster: KServe's storage initializer downloads ${scheme}:// models, and inferlog ` +
        `serves local files only. Copy the model locally (e.g. gsutil cp / aws s3 cp / curl) and set ` +
        `storageUri to its path, relative to the YAML file, e.g. storageUri: ./models/my-model/model.onnx`,
    );
  } else {
    path = isAbsolute(uri) ? uri : resolve(baseDir, uri);
  }

  let stat;
  try {
    stat = statSync(path);
  } catch {
    throw new InferlogError(
      'CONFIG_INVALID',
      `storageUri '${uri}' resolves to ${path}, which does not exist` +
        (isAbsolute(uri) || scheme === 'file' ? '' : ` (relative paths resolve against ${baseDir})`) +
        ` — for the bundled examples, run: node scripts/make-models.js`,
    );
  }
  if (stat.isFile()) return path;
  if (!stat.isDirectory())
    throw new InferlogError(
      'CONFIG_INVALID',
      `storageUri '${uri}' resolves to ${path}, which is neither a file nor a directory`,
    );

  const preferred = join(path, 'model.onnx');
  try {
    if (statSync(preferred).isFile()) return preferred;
  } catch {
    // fall through: look for any single .onnx file
  }
  const onnx = readdirSync(path).filter((f) => f.toLowerCase().endsWith('.onnx'));
  if (onnx.length === 1) return join(path, onnx[0] as string);
  throw new InferlogError(
    'CONFIG_INVALID',
    onnx.length === 0
      ? `storageUri '${uri}' is the directory ${path}, which holds no model.onnx: put the model file there or point storageUri at the file`
      : `storageUri '${uri}' is the directory ${path}, which holds several .onnx files (${onnx.join(', ')}): point storageUri at one of them`,
  );
}
