// The command list: one import and one call per command file.
import type { Command } from 'commander';
import { register as registerUp } from './up.js';
import { register as registerAgent } from './agent.js';
import { register as registerValidate } from './validate.js';
import { register as registerCollect } from './collect.js';
import { register as registerQuery } from './query.js';
import { register as registerTail } from './tail.js';
import { register as registerReplay } from './replay.js';

export function registerCommands(program: Command): void {
  registerCollect(program);
  registerQuery(program);
  registerTail(program);
  registerReplay(program);
  registerUp(program);
  registerAgent(program);
  registerValidate(program);
}
