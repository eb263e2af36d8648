/**
 * `inferlog erase`: delete captured exchanges for a privacy request, through a collector.
 *
 *   --id X            ──▶ DELETE /api/v1/exchanges/X  (that exchange; every exchange with that event id)
 *   --request-id X …  ──▶ DELETE /api/v1/exchanges?requestId=X&…  (the list's filters)
 *   --all             ──▶ DELETE /api/v1/exchanges?all=true  (everything, on purpose)
 *        ──on a terminal without --yes: ask first──▶ "erased N exchanges" on stdout
 *
 * The collector needs the admin scope for it and writes an audit line. Exit codes
 * (exit-codes.ts): 0 done (also when nothing matched), 2 usage (no filter, a filter the
 * collector rejects, or no --yes off a terminal), 69 collector unreachable, 77 not allowed
 * (401/403), 130 not confirmed at the prompt.
 */
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { requestJson } from '../../api/client.js';
import { InferlogError } from '../../core/errors.js';
import { fail } from '../exit-codes.js';
import { addCollectorAccessFlags, collectorAccess, type CollectorAccessFlags } from '../collector-access.js';
import { addFilterFlags, filterParams, type FilterFlags } from '../filter-flags.js';

interface EraseFlags extends CollectorAccessFlags, FilterFlags {
  collector: string;
  id?: string;
  all?: boolean;
  yes?: boolean;
}

const usage = (message: string): never => fail('erase', new InferlogError('USAGE_INVALID', message));

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^(y|yes)$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export function register(program: Command): void {
  const cmd = program
    .command('erase')
    .description(
      'Erase stored exchanges (privacy requests) by id or filter, through a collector (admin scope; audited).',
    )
    .option('--collector <url>', 'the collector', 'http://127.0.0.1:8090')
    .option('--id <id>', 'one exchange (its key), or every exchange with this event id');
  addFilterFlags(cmd, 'first', 'every exchange')
    .option('--all', 'erase every stored exchange (alone, without filters)')
    .option('--yes', 'do not ask for confirmation (needed when not on a terminal)');
  addCollectorAccessFlags(cmd);
  cmd.action(async (f: EraseFlags) => {
    const filters = filterParams(f, 'first');
    const given = Object.entries(filters).filter(([, v]) => v !== undefined);
    if (f.id !== undefined && (given.length > 0 || f.all))
      usage('--id names one exchange: give it without other filters or --all');
    if (f.all && given.length > 0) usage('--all erases everything: give it without filters');
    if (f.id === undefined && !f.all && given.length === 0)
      usage(
        'say what to erase: --id, --request-id, --header or other filters (--model, --since…); --all erases everything',
      );
    const what =
      f.id !== undefined
        ? `exchange "${f.id}"`
        : f.all
          ? 'EVERY stored exchange'
          : `every exchange matching ${given.map(([k, v]) => `${k}=${v}`).join(' ')}`;
    if (!f.yes) {
      if (!process.stdin.isTTY || !process.stderr.isTTY)
        usage(`not on a terminal: add --yes to erase ${what} at ${f.collector} without a prompt`);
      const ok = await confirm(`Erase ${what} at ${f.collector}? This cannot be undone. [y/N] `);
      if (!ok) fail('erase', new InferlogError('INTERRUPTED', 'not confirmed: nothing was erased'));
    }
    try {
      const collector = collectorAccess(f.collector, f);
      const answer =
        f.id !== undefined
          ? await requestJson<{ deleted: number }>(
              'DELETE',
              collector,
              `api/v1/exchanges/${encodeURIComponent(f.id)}`,
            )
          : await requestJson<{ deleted: number }>(
              'DELETE',
              collector,
              'api/v1/exchanges',
              f.all ? { all: 'true' } : filters,
            );
      process.stdout.write(`erased ${answer.deleted} exchange${answer.deleted === 1 ? '' : 's'}\n`);
    } catch (err) {
      fail('erase', err);
    }
  });
}
