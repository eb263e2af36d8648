/**
 * The command list, in the order `inferlog --help` shows it. Each command file is loaded
 * only when it runs (or for --help): loading all of them costs over a second at start-up,
 * which every agent restart and every CLI call would pay.
 */
import type { Command } from 'commander';

type Register = (program: Command) => void;

const COMMANDS: ReadonlyArray<[name: string, load: () => Promise<{ register: Register }>]> = [
  ['up', () => import('./up.js')],
  ['agent', () => import('./agent.js')],
  ['validate', () => import('./validate.js')],
  ['collect', () => import('./collect.js')],
  ['query', () => import('./query.js')],
  ['tail', () => import('./tail.js')],
  ['replay', () => import('./replay.js')],
  ['login', () => import('./login.js')],
  ['erase', () => import('./erase.js')],
  ['token', () => import('./token.js')],
];

/** Registers the command named in argv (or all of them, for help and unknown names). */
export async function registerCommands(program: Command, argv: readonly string[]): Promise<void> {
  const wanted = argv.slice(2).find((a) => !a.startsWith('-'));
  const match = COMMANDS.find(([name]) => name === wanted);
  const chosen = match ? [match] : COMMANDS;
  for (const [, load] of chosen) (await load()).register(program);
}
