/**
 * How every command's `--help` and usage errors read, set once on the program (commander passes
 * it on to each command).
 *
 * - Defaults in one style, at the end of the description: `(default: 16MiB)`, `(default: 60s)`,
 *   without commander's JSON quotes and without the `[]`/`false`/`""` defaults that are only an
 *   implementation detail. An option whose default is applied later (request limits, logger
 *   extensions) names it with `withDefault`, so it reads the same.
 * - Unknown options are reported before missing required ones: `up --fiel x.yaml` should say
 *   "unknown option '--fiel' (Did you mean --file?)", not "required option '-f' not specified".
 *   commander checks required options first, so required options are checked here instead, in a
 *   preAction hook, which runs after commander's unknown-option check.
 */
import { Help, type Command, type Option } from 'commander';

/** The default shown in help for an option whose default is applied in code, e.g. `60s`. */
export function withDefault(option: Option, shown: string): Option {
  option.defaultValueDescription = shown;
  return option;
}

function shownDefault(option: Option): string | undefined {
  if (option.defaultValueDescription !== undefined) return option.defaultValueDescription;
  const v: unknown = option.defaultValue;
  if (v === undefined || v === '' || v === false || (Array.isArray(v) && v.length === 0)) return undefined;
  if (option.negate) return undefined;
  return Array.isArray(v) ? v.join(',') : String(v);
}

class InferlogHelp extends Help {
  override optionDescription(option: Option): string {
    const shown = shownDefault(option);
    const extra = shown === undefined ? '' : `(default: ${shown})`;
    return [option.description, extra].filter(Boolean).join(' ');
  }
}

/** Marks required options so the preAction hook checks them after unknown options. */
function deferRequired(cmd: Command, required: Map<Command, Option[]>): void {
  const opts = cmd.options.filter((o) => o.mandatory);
  for (const o of opts) o.mandatory = false;
  if (opts.length > 0) required.set(cmd, opts);
  for (const sub of cmd.commands) deferRequired(sub, required);
}

/** Applies the help style and the error order to `program` and the commands added to it so far. */
export function configureHelp(program: Command): void {
  const apply = (cmd: Command): void => {
    cmd.createHelp = () => Object.assign(new InferlogHelp(), cmd.configureHelp());
    for (const sub of cmd.commands) apply(sub);
  };
  apply(program);
  const required = new Map<Command, Option[]>();
  deferRequired(program, required);
  program.hook('preAction', (_program, action) => {
    for (const o of required.get(action) ?? []) {
      if (action.getOptionValue(o.attributeName()) === undefined) {
        action.error(`error: required option '${o.flags}' not specified`, {
          code: 'commander.missingMandatoryOptionValue',
        });
      }
    }
  });
}
