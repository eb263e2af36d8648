/**
 * Renders a results JSON again with the current report code: the targets are re-evaluated from
 * the stored measurements (nothing is measured), so a corrected rule or wording applies to a run
 * that took a quiet machine to make.
 *
 *   npx tsx bench/render.ts bench/results/<time>.json > bench/results/<time>.md
 */
import { readFileSync } from 'node:fs';
import type { BenchReport } from './lib/results.js';
import { evaluateTargets, renderMarkdown } from './lib/report.js';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: npx tsx bench/render.ts <results.json>\n');
  process.exit(2);
}
const report = JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
const profiles = report.profiles ?? [];
report.targets = evaluateTargets(report.points, report.collector, report.scenarios, {
  ...(report.pg ? { pg: report.pg } : {}),
  ...(report.scaling ? { scaling: report.scaling } : {}),
  profiles,
});
process.stdout.write(renderMarkdown(report));
