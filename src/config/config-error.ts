/**
 * Config problems carry where they are: `FILE:LINE:COL: field.path: message`, so an
 * editor can jump to them. One ConfigError holds every problem found in one pass.
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

export class ConfigError extends InferlogError {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    super('CONFIG_INVALID', problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
