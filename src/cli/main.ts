/**
 * The `inferlog` command line. Each command lives in its own file under commands/
 * and registers itself on the program.
 *
 * Exit codes: 0 ok; 1 invalid config or input; 2 usage error; 69 a peer is unavailable; 70 internal error.
 */
import { Command } from 'commander';
import { registerCommands } from './commands/index.js';
import { configureHelp } from './help.js';
import { InferlogError } from '../core/errors.js';

const program = new Command();
program
  .name('inferlog')
  .description('Capture every request and response your model server handles — a better KServe logger.')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : err.code === 'commander.help' ? 0 : 2);
  });
await registerCommands(program, process.argv);
configureHelp(program);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Config problems found while starting (an unusable spool dir, a missing CA file) exit 1 with
  // their message; anything else is a bug: say so, with the stack for the report.
  if (err instanceof InferlogError && err.code === 'CONFIG_INVALID') {
    process.stderr.write(`inferlog: ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`inferlog: internal error: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(70);
}
