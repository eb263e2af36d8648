/**
 * `inferlog token create|list|revoke`: API tokens in the collector's auth file (`collect --auth-file`).
 *
 *   create ──256 random bits──▶ token on stdout, once ──sha256──▶ auth file (0600, atomic rewrite)
 *   revoke ──remove its entry──▶ the collector refuses it within seconds (it reloads the file)
 *
 * Only the token itself goes to stdout (so `TOKEN=$(inferlog token create …)` works); everything
 * else goes to stderr. The file never holds a token, only its hash.
 */
import { Option, type Command } from 'commander';
import { SCOPES, type Scope } from '../../collector/auth/principal.js';
import { createTokenIn, listTokensIn, revokeTokenIn } from '../../collector/auth/token-file.js';
import { InferlogError } from '../../core/errors.js';
import { fail } from '../exit-codes.js';
import { exitWithConfigError } from '../util.js';

const collectList = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  ...value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean),
];

function run(action: () => void): void {
  try {
    action();
  } catch (err) {
    if (err instanceof InferlogError && err.code === 'CONFIG_INVALID') exitWithConfigError(err);
    fail('token', err);
  }
}

export function register(program: Command): void {
  const token = program
    .command('token')
    .description("Create, list and revoke the collector's API tokens (collect --auth-file)");

  token
    .command('create')
    .description('Make a new token, print it once on stdout, and record its hash in the auth file')
    .requiredOption('--auth-file <file>', 'the auth file (created 0600 if missing)')
    .requiredOption('--name <name>', 'a unique name: the principal audit lines show')
    .addOption(
      new Option('--scope <scope>', `what it may do: ${SCOPES.join(', ')} (repeat or comma-separate)`)
        .argParser(collectList)
        .makeOptionMandatory(),
    )
    .option('--namespace <ns>', 'limit it to these namespaces (repeat or comma-separate)', collectList)
    .option('--model <name>', 'limit it to these models (repeat or comma-separate)', collectList)
    .action(
      (opts: { authFile: string; name: string; scope: string[]; namespace?: string[]; model?: string[] }) =>
        run(() => {
          const unknown = opts.scope.filter((s) => !(SCOPES as readonly string[]).includes(s));
          if (unknown.length > 0)
            throw new InferlogError(
              'USAGE_INVALID',
              `--scope ${unknown.join(', ')}: unknown; use ${SCOPES.join(', ')}`,
            );
          const created = createTokenIn(opts.authFile, {
            name: opts.name,
            scopes: [...new Set(opts.scope)] as Scope[],
            ...(opts.namespace ? { namespaces: opts.namespace } : {}),
            ...(opts.model ? { models: opts.model } : {}),
          });
          process.stdout.write(created + '\n');
          const limits = [
            opts.namespace ? `namespaces ${opts.namespace.join(', ')}` : 'every namespace',
            ...(opts.model ? [`models ${opts.model.join(', ')}`] : []),
          ].join('; ');
          process.stderr.write(
            `inferlog token: created "${opts.name}" (${[...new Set(opts.scope)].join(', ')}; ${limits}) in ${opts.authFile}. ` +
              'This is the only time it is shown: store it now (a running collector picks it up within seconds).\n',
          );
        }),
    );

  token
    .command('list')
    .description('List the tokens in the auth file (names, scopes, limits; never a token)')
    .requiredOption('--auth-file <file>', 'the auth file')
    .option('--format <format>', 'table or json', 'table')
    .action((opts: { authFile: string; format: string }) =>
      run(() => {
        if (opts.format !== 'table' && opts.format !== 'json')
          throw new InferlogError('USAGE_INVALID', `--format "${opts.format}": use table or json`);
        const rows = listTokensIn(opts.authFile).map((t) => ({
          name: t.name,
          scopes: [...t.scopes],
          namespaces: t.namespaces ?? null,
          models: t.models ?? null,
          created: t.created ?? null,
        }));
        if (opts.format === 'json') {
          process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
          return;
        }
        const cells = rows.map((r) => [
          r.name,
          r.scopes.join(','),
          r.namespaces?.join(',') ?? '*',
          r.models?.join(',') ?? '*',
          r.created ?? '',
        ]);
        const header = ['NAME', 'SCOPES', 'NAMESPACES', 'MODELS', 'CREATED'];
        const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
        for (const line of [header, ...cells])
          process.stdout.write(
            line
              .map((c, i) => c.padEnd(widths[i]!))
              .join('  ')
              .trimEnd() + '\n',
          );
      }),
    );

  token
    .command('revoke')
    .description('Remove a token from the auth file; a running collector refuses it within seconds')
    .requiredOption('--auth-file <file>', 'the auth file')
    .requiredOption('--name <name>', 'the token to revoke')
    .action((opts: { authFile: string; name: string }) =>
      run(() => {
        if (!revokeTokenIn(opts.authFile, opts.name))
          throw new InferlogError('NOT_FOUND', `${opts.authFile} has no token named "${opts.name}"`);
        process.stderr.write(`inferlog token: revoked "${opts.name}" in ${opts.authFile}\n`);
      }),
    );
}
