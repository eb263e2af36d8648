/**
 * Unknown fields at every level of an InferenceService, checked against KServe's own field
 * lists: kserve-schema.json, generated from the `kserve` and `kubernetes` Python packages'
 * OpenAPI models (scripts/kserve-schema/generate.py; versions and licence in its header).
 *
 *   YAML value ──walk(type)──▶ map of fields?  each key known? ──no──▶ "did you mean …"
 *                              list / map?     each item ──walk(item type)
 *
 * Only structure is checked here (field names, map vs list); scalar values are left to the
 * zod schema for the fields inferlog reads, and to Kubernetes for the rest (int-or-string
 * quantities would make a scalar check here wrong).
 */
import { createRequire } from 'node:module';

interface KserveSchema {
  root: string;
  /** Types without a field list (ResourceQuantity…): their values are not checked. */
  opaque: string[];
  /** Type name → { YAML field name → type expression: `str`, `list[X]`, `dict(str, X)`, `X` }. */
  types: Record<string, Record<string, string>>;
}

// Read as CommonJS: a JSON import would print an ExperimentalWarning on Node 20. The type-only
// import keeps the file in the program, so `tsc` copies it next to this module in dist/.
const loaded = createRequire(import.meta.url)(
  './kserve-schema.json',
) as typeof import('./kserve-schema.json');
const SCHEMA: KserveSchema = loaded;

export interface FieldProblem {
  path: Array<string | number>;
  message: string;
}

/** Levenshtein distance, for "did you mean". */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        (prev[j] as number) + 1,
        (cur[j - 1] as number) + 1,
        (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length] as number;
}

/** The known name closest to `name`, when it is close enough to be a typo (case counts as no edit). */
export function closest(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(lower, k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return bestDistance <= Math.max(1, Math.floor(name.length / 3)) ? best : undefined;
}

const isMap = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

function walk(value: unknown, type: string, path: Array<string | number>, out: FieldProblem[]): void {
  if (value === null || value === undefined) return;
  if (type.startsWith('list[')) {
    if (!Array.isArray(value)) {
      out.push({ path, message: `must be a list (\`- item\` lines or [a, b]), not ${describe(value)}` });
      return;
    }
    const item = type.slice('list['.length, -1);
    value.forEach((v, i) => walk(v, item, [...path, i], out));
    return;
  }
  if (type.startsWith('dict(str, ')) {
    if (!isMap(value)) {
      out.push({ path, message: `must be a map of key: value, not ${describe(value)}` });
      return;
    }
    const item = type.slice('dict(str, '.length, -1);
    for (const [k, v] of Object.entries(value)) walk(v, item, [...path, k], out);
    return;
  }
  const fields = SCHEMA.types[type];
  if (!fields) return; // a scalar, or an opaque type
  if (!isMap(value)) {
    out.push({ path, message: `must be a map of fields, not ${describe(value)}` });
    return;
  }
  const known = Object.keys(fields);
  for (const [k, v] of Object.entries(value)) {
    const fieldType = fields[k];
    if (fieldType !== undefined) {
      walk(v, fieldType, [...path, k], out);
      continue;
    }
    const guess = closest(k, known);
    out.push({
      path: [...path, k],
      message: guess
        ? `unknown field "${k}" (did you mean "${guess}"?)`
        : `unknown field "${k}"${known.length <= 12 ? `; known: ${known.join(', ')}` : ''}`,
    });
  }
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (isMap(v)) return 'a map';
  return typeof v === 'string' ? `the string "${v.length > 40 ? v.slice(0, 40) + '…' : v}"` : `${String(v)}`;
}

/** Every unknown field and every map/list mismatch in an InferenceService document, with its path. */
export function kserveFieldProblems(isvc: unknown): FieldProblem[] {
  const out: FieldProblem[] = [];
  walk(isvc, SCHEMA.root, [], out);
  return out;
}

/** Where the field lists come from, for messages and docs. */
export const KSERVE_SCHEMA_SOURCE = (loaded as { source: Record<string, string> }).source;
