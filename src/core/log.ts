/**
 * Operational messages for humans, on stderr — stdout belongs to the exchange log,
 * so `inferlog up > requests.jsonl` yields pure JSONL.
 *
 * `INFERLOG_LOG_FORMAT=json` switches to one JSON object per line for log shippers;
 * `INFERLOG_LOG_LEVEL=debug|info|warn|error` sets the threshold (default info).
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';
const rank: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface OpLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

function envLevel(): Level {
  const v = process.env.INFERLOG_LOG_LEVEL;
  return v === 'debug' || v === 'info' || v === 'warn' || v === 'error' ? v : 'info';
}

export function createOpLogger(
  component: string,
  out: { write(s: string): unknown } = process.stderr,
  level: Level = envLevel(),
): OpLogger {
  const json = process.env.INFERLOG_LOG_FORMAT === 'json';
  const threshold = rank[level];
  const noop = (): void => {};
  const make =
    (lvl: Level) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      if (json) {
        out.write(
          JSON.stringify({ level: lvl, ts: new Date().toISOString(), logger: component, msg, ...fields }) +
            '\n',
        );
        return;
      }
      const extra = fields
        ? ' ' +
          Object.entries(fields)
            .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
            .join(' ')
        : '';
      const tag = lvl === 'info' ? '' : `${lvl.toUpperCase()} `;
      out.write(`inferlog ${component}: ${tag}${msg}${extra}\n`);
    };
  // A disabled level is a no-op function, so a debug call on the hot path costs nothing.
  return {
    debug: rank.debug >= threshold ? make('debug') : noop,
    info: rank.info >= threshold ? make('info') : noop,
    warn: rank.warn >= threshold ? make('warn') : noop,
    error: rank.error >= threshold ? make('error') : noop,
  };
}
