/**
 * How long a client may take to send its request, and how much of a body is read before an
 * upstream connection is taken: the flags both `inferlog agent` and `inferlog up` accept.
 * One table drives the flags, their help text and their validation (like EXTENSION_OPTIONS).
 *
 *   --request-body-timeout 60s   ──▶ no body bytes for this long: 408 (nginx's client_body_timeout)
 *   --request-timeout 300s       ──▶ whole request not received in this long: 408 (node's default)
 *   --request-buffer-bytes 1MiB  ──▶ bodies up to this are read whole before going upstream (agent)
 *   --upstream-connections 128   ──▶ connections kept to the model (agent)
 */
import { Option, type Command } from 'commander';
import { PROXY_DEFAULTS } from '../capture/proxy.js';
import { formatBytes, formatDuration } from '../core/terminal.js';
import { parseBytes, parseDuration } from '../core/units.js';
import { InferlogError } from '../core/errors.js';
import { withDefault } from './help.js';

export interface RequestLimits {
  requestBodyTimeoutMs: number;
  requestTimeoutMs: number;
  requestBufferBytes: number;
  connections: number;
}

interface LimitOption {
  flag: string;
  /** The commander property the flag lands in. */
  prop: string;
  field: keyof RequestLimits;
  description: string;
  /** The default, as help shows it. */
  shown(): string;
  /** Only the agent proxies (buffering, pool); `up` serves in-process. */
  agentOnly?: boolean;
  parse(raw: string): number;
}

function positiveDuration(raw: string): number {
  const ms = parseDuration(raw);
  if (!(ms > 0))
    throw new InferlogError('CONFIG_INVALID', `"${raw}" must be a duration above zero, e.g. 60s`);
  return ms;
}

const LIMIT_OPTIONS: readonly LimitOption[] = [
  {
    flag: 'request-body-timeout',
    prop: 'requestBodyTimeout',
    field: 'requestBodyTimeoutMs',
    description: 'answer 408 when a request body stops arriving for this long',
    shown: () => formatDuration(PROXY_DEFAULTS.requestBodyTimeoutMs),
    parse: positiveDuration,
  },
  {
    flag: 'request-timeout',
    prop: 'requestTimeout',
    field: 'requestTimeoutMs',
    description: 'answer 408 when a whole request has not arrived after this long',
    shown: () => formatDuration(PROXY_DEFAULTS.requestTimeoutMs),
    parse: positiveDuration,
  },
  {
    flag: 'request-buffer-bytes',
    prop: 'requestBufferBytes',
    field: 'requestBufferBytes',
    description:
      'request bodies up to this size are read whole before they go to the model; larger ones stream',
    shown: () => formatBytes(PROXY_DEFAULTS.requestBufferBytes),
    agentOnly: true,
    parse: parseBytes,
  },
  {
    flag: 'upstream-connections',
    prop: 'upstreamConnections',
    field: 'connections',
    description: 'connections kept to the model server',
    shown: () => String(PROXY_DEFAULTS.connections),
    agentOnly: true,
    parse: (raw) => {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 1)
        throw new InferlogError('CONFIG_INVALID', `"${raw}" must be a whole number ≥ 1`);
      return n;
    },
  },
];

/** Adds the request-limit flags to a command. */
export function addRequestLimitFlags(cmd: Command, forAgent: boolean): void {
  for (const opt of LIMIT_OPTIONS) {
    if (forAgent || !opt.agentOnly)
      cmd.addOption(withDefault(new Option(`--${opt.flag} <value>`, opt.description), opt.shown()));
  }
}

/** The limits from parsed flags (defaults for the ones not given); a CONFIG_INVALID error names each bad flag. */
export function requestLimitsFrom(flags: Record<string, unknown>, command: string): RequestLimits {
  const limits: RequestLimits = {
    requestBodyTimeoutMs: PROXY_DEFAULTS.requestBodyTimeoutMs,
    requestTimeoutMs: PROXY_DEFAULTS.requestTimeoutMs,
    requestBufferBytes: PROXY_DEFAULTS.requestBufferBytes,
    connections: PROXY_DEFAULTS.connections,
  };
  const problems: string[] = [];
  for (const opt of LIMIT_OPTIONS) {
    const raw = flags[opt.prop];
    if (typeof raw !== 'string') continue;
    try {
      limits[opt.field] = opt.parse(raw);
    } catch (e) {
      problems.push(`--${opt.flag}: ${(e as Error).message}`);
    }
  }
  // A flag value is a usage error (exit 2), like any other bad flag; every bad one is named at once.
  if (problems.length > 0)
    throw new InferlogError('USAGE_INVALID', problems.join('; '), { details: { command } });
  return limits;
}
