/**
 * The `inferlog` command line. Each command lives in its own file under commands/
 * and registers itself on the program.
 *
 * Exit codes: 0 ok; 1 invalid config or input; 2 usage error; 69 a peer is unavailable; 70 internal
 * error. Errors map to them in one table, exit-codes.ts.
 */
import { Command } from 'commander';
import { registerCommands } from './commands/index.js';
import type { InferlogError } from '../core/errors.js';
import { EXIT, fail } from './exit-codes.js';

/**
 * A lower layer names the setting an error is about by its option key (`details.option`,
 * e.g. `spool-dir`) and what it is (`details.setting`, e.g. `spool directory`). When the person
 * gave it as a flag, the message starts with that flag, as they typed it; otherwise (from an
 * InferenceService annotation, say) with what the setting is.
 */
function settingWording(err: InferlogError): string {
  const { option, setting } = err.details;
  if (typeof option !== 'string') return err.message;
  const flag = `--${option}`;
  if (process.argv.some((a) => a === flag || a.startsWith(`${flag}=`))) return `${flag} ${err.message}`;
  return typeof setting === 'string' ? `${setting} ${err.message}` : err.message;
}
import { configureHelp } from './help.js';

const program = new Command();
program
  .name('inferlog')
  .description('Capture every request and response your model server handles — a better KServe logger.')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride((err) => {
    process.exit(err.exitCode === 0 ? EXIT.OK : err.code === 'commander.help' ? EXIT.OK : EXIT.USAGE);
  });
await registerCommands(program, process.argv);
configureHelp(program);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Problems found while starting (an unusable spool dir, a missing CA file, a taken port) exit
  // with their code's exit code and message; anything else is a bug: said so, with the stack.
  fail('', err, settingWording);
}
