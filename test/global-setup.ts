// Builds dist/ (the CLI the end-to-end tests spawn, with its UI) once per test run.
// Type errors do not stop the run here (tsc still emits, and `npm run lint` reports them);
// they only get a warning, so one broken file cannot hide every other test's result.
import { spawnSync } from 'node:child_process';

export default function setup(): void {
  const result = spawnSync(
    process.execPath,
    ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'],
    {
      encoding: 'utf8',
    },
  );
  if (result.status !== 0) {
    const lines = (result.stdout + result.stderr).trim().split('\n');
    process.stderr.write(
      `\nwarning: tsc reported ${lines.length} line(s) of errors while building dist/:\n${lines.slice(0, 10).join('\n')}\n\n`,
    );
  }
  // The same second step as `npm run build`: the UI goes beside the compiled collector.
  const copy = spawnSync(process.execPath, ['scripts/copy-ui.js'], { encoding: 'utf8' });
  if (copy.status !== 0) throw new Error(`scripts/copy-ui.js failed:\n${copy.stdout}${copy.stderr}`);
}
