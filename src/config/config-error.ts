/**
 * Config problems carry where they are: `FILE:LINE:COL: field.path: message`, so an
 * editor can jump to them. One CONFIG_INVALID error holds every problem found in one pass, one per
 * line of its message, and their number in `details.problems`.
 */
import { InferlogError } from '../core/errors.js';

export interface ConfigProblem {
  file: string;
  line: number;
  col: number;
  /** Dotted field path, e.g. `spec.predictor.logger.mode`, or a flag name like `--log-mode`. */
  path: string;
  message: string;
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.col}` : p.file;
  return `${where}: ${p.path}: ${p.message}`;
}

export function configError(problems: readonly ConfigProblem[]): InferlogError {
  return new InferlogError('CONFIG_INVALID', problems.map(formatProblem).join('\n'), {
    details: { problems: problems.length },
  });
}
