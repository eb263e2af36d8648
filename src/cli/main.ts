/**
 * The `inferlog` command line. Each command lives in its own file under commands/
 * and registers itself on the program.
 *
 * Exit codes: 0 ok; 1 invalid config or input; 2 usage error; 69 a peer is unavailable; 70 internal error.
 */
import { Command } from 'commander';
import { registerCommands } from './commands/index.js';

const program = new Command();
program
  .name('inferlog')
  .description('Capture every request and response your model server handles — a better KServe logger.')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : err.code === 'commander.help' ? 0 : 2);
  });
registerCommands(program);
await program.parseAsync(process.argv);
