/**
 * Per-principal rate limits (`--rate-limit 50/s`): one token bucket per caller, checked right after
 * authentication, so a caller over its rate is answered 429 before its body is read.
 *
 *   request ──auth──▶ principal ──bucket(principal)──has a token?──yes──▶ route
 *                                                        └─ no ──▶ 429 RATE_LIMITED, Retry-After: seconds
 *
 * The bucket holds one second's worth (burst = rate) and refills continuously. The key is the
 * principal (token name, certificate subject, OIDC subject); callers that share one identity by
 * construction (no auth on loopback, an open ingest listener) are told apart by address, so one
 * busy sender cannot starve the others. Public routes (health, the UI's files) are not limited:
 * a kubelet probing /healthz must never see 429. Requests that fail authentication count per
 * address (registerFailedAuthLimit), so a loop of bad credentials is throttled too. Buckets left full for a minute are forgotten, and
 * their number is capped, so the map cannot grow without bound.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InferlogError } from '../../core/errors.js';

export interface RateLimit {
  /** Requests per second, also the burst. */
  perSecond: number;
}

/** Parses `N/s`, `N/m` (per minute) or a bare `N` (per second). */
export function parseRateLimit(text: string): RateLimit {
  const m = /^(\d+(?:\.\d+)?)(?:\/(s|sec|m|min))?$/.exec(text.trim());
  const n = m ? Number(m[1]) : NaN;
  if (!m || !(n > 0))
    throw new InferlogError(
      'USAGE_INVALID',
      `"${text}" is not a rate: use requests per second, e.g. 50/s or 600/m`,
    );
  return { perSecond: m[2] === 'm' || m[2] === 'min' ? n / 60 : n };
}

interface Bucket {
  tokens: number;
  at: number;
}

const MAX_BUCKETS = 100_000;
const IDLE_MS = 60_000;

export interface RateLimiter {
  /** Takes one token for `key`; returns 0 when allowed, else the ms until one is available. */
  take(key: string, now?: number): number;
  /** As take, without taking: 0 when a token is available. */
  peek(key: string, now?: number): number;
}

export function createRateLimiter(limit: RateLimit): RateLimiter {
  const burst = Math.max(1, limit.perSecond);
  const perMs = limit.perSecond / 1000;
  const buckets = new Map<string, Bucket>();
  let lastSweep = 0;
  const sweep = (now: number): void => {
    lastSweep = now;
    for (const [key, b] of buckets) if (now - b.at > IDLE_MS) buckets.delete(key);
  };
  const refilled = (key: string, now: number): Bucket | undefined => {
    const b = buckets.get(key);
    if (b === undefined) return undefined;
    b.tokens = Math.min(burst, b.tokens + (now - b.at) * perMs);
    b.at = now;
    return b;
  };
  const wait = (b: Bucket): number => (b.tokens >= 1 ? 0 : Math.ceil((1 - b.tokens) / perMs));
  return {
    take(key, now = Date.now()) {
      if (now - lastSweep > IDLE_MS) sweep(now);
      let b = refilled(key, now);
      if (b === undefined) {
        // At the cap, the oldest entry goes (Map keeps insertion order): a flood of new keys
        // forgets other flooders first, and a forgotten caller merely starts with a full bucket.
        if (buckets.size >= MAX_BUCKETS) buckets.delete(buckets.keys().next().value!);
        b = { tokens: burst, at: now };
        buckets.set(key, b);
      }
      const ms = wait(b);
      if (ms === 0) b.tokens -= 1;
      return ms;
    },
    peek(key, now = Date.now()) {
      const b = refilled(key, now);
      return b === undefined ? 0 : wait(b);
    },
  };
}

/**
 * The caller a failed authentication is charged to: an IPv4 address, or an IPv6 /64 (a host is
 * routinely given a whole /64, so keying by the full address would let one client sending bad
 * credentials be 2^64 callers, each with a fresh bucket).
 */
export function addressKey(ip: string): string {
  const bare = ip.replace(/%.*$/, '').toLowerCase();
  if (!bare.includes(':')) return bare;
  if (bare.startsWith('::ffff:') && bare.includes('.')) return bare.slice('::ffff:'.length);
  const [head = '', tail] = bare.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

function keyOf(req: FastifyRequest): string {
  const p = req.principal;
  // Per address, not per /64: pods on one node may share a /64, and honest agents must not.
  if (p.via === 'none' || p.via === 'ingest-listener') return `addr:${req.ip}`;
  return `${p.via}:${p.id}`;
}

function rateLimited(who: string, waitMs: number): InferlogError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new InferlogError('RATE_LIMITED', `${who} is over the rate limit: retry in ${seconds}s`, {
    status: 429,
    retryAfterMs: waitMs,
    headers: { 'retry-after': String(seconds) },
    details: { retryAfterSeconds: seconds },
  });
}

/**
 * Requests that fail authentication are limited per address at the same rate: every 401 takes a
 * token from the address's bucket, and while it is empty the address is answered 429 before its
 * credentials are even checked. Guessing a 256-bit token is hopeless anyway; this bounds the work a
 * client sending bad credentials in a loop costs. Register it before auth/hook.ts's hook.
 */
export function registerFailedAuthLimit(app: FastifyInstance, limiter: RateLimiter): void {
  app.addHook('onRequest', async (req) => {
    if (req.routeOptions.config.public === true) return;
    const waitMs = limiter.peek(`failed:${addressKey(req.ip)}`);
    if (waitMs > 0) throw rateLimited(`${req.ip} (failed authentication)`, waitMs);
  });
  app.addHook('onResponse', async (req, reply) => {
    if (reply.statusCode === 401) limiter.take(`failed:${addressKey(req.ip)}`);
  });
}

/** Adds the limit as an onRequest hook; register it after auth/hook.ts's, which sets the principal. */
export function registerRateLimit(app: FastifyInstance, limiter: RateLimiter): void {
  app.addHook('onRequest', async (req) => {
    if (req.routeOptions.config.public === true) return;
    const waitMs = limiter.take(keyOf(req));
    if (waitMs > 0) throw rateLimited(`"${req.principal.id}"`, waitMs);
  });
}
