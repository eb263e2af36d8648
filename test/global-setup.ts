// Builds dist/ (the CLI the end-to-end tests spawn) once per test run.
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
}
