/**
 * The collector's storage interface. Implementations: SQLite (one file, one collector)
 * and PostgreSQL (many collectors, one database). Both run store.contract.ts.
 *
 *   receive ──ExchangeHalf[]──▶ putEvents (one transaction, idempotent) ──▶ rows
 *   query API ◀── listExchanges / getExchange / stats ◀── rows
 */
import type { InstanceSkipReason } from '../formats/instances.js';
import type { ExchangeHalf, ExchangeRow } from './exchange-record.js';

export type StatusFilter =
  | { kind: 'exact'; code: number }
  | { kind: 'class'; hundreds: number }
  | { kind: 'error' }
  | { kind: 'incomplete' };

/**
 * What one reader may see (its principal's namespaces and models, auth/principal.ts). Rows
 * outside it do not exist for the query: the stores push it into SQL, so pages, counts, stats
 * and cursors are computed over the allowed rows only. An empty list allows nothing.
 */
export interface AccessScope {
  namespaces?: readonly string[];
  models?: readonly string[];
}

/** A header the exchange's request carried (Ce-Metadata): name compared case-insensitively, value exactly. */
export interface HeaderMatch {
  name: string;
  value: string;
}

export interface ExchangeFilter {
  /** The principal's allow-list; undefined = everything (an unrestricted principal). */
  allow?: AccessScope;
  /** An exchange by store key, or every exchange with this CloudEvents id (erasure by id). */
  exchangeId?: string;
  /** A request header, e.g. `X-Request-Id` (erasure of one user's request; listing). */
  header?: HeaderMatch;
  model?: string;
  namespace?: string;
  component?: string;
  status?: StatusFilter;
  /** Inclusive, epoch ms. */
  sinceMs?: number;
  /** Exclusive, epoch ms. */
  untilMs?: number;
  /** Case-insensitive body substring. */
  q?: string;
  /** W3C trace id (32 hex digits, any case): the exchanges of one distributed trace. */
  traceId?: string;
}

/** Where a page ends: a keyset position, so concurrent inserts never shift pages. */
export type PagePosition = { kind: 'time'; timeMs: number; id: string } | { kind: 'seq'; seq: number };

export interface PageRequest {
  limit: number;
  /** newest: by exchange time, newest first. follow: by store sequence (insert/update order), oldest first. */
  order: 'newest' | 'follow';
  after?: PagePosition;
}

export interface StoredExchange {
  row: ExchangeRow;
  /** Store sequence: grows each time the row is inserted or completed. */
  seq: number;
}

export interface ExchangePage {
  items: StoredExchange[];
  /** Newest: null at the end. Follow: always set (resume point). */
  next: PagePosition | null;
}

export interface ExchangeWithBodies extends StoredExchange {
  requestBody: Uint8Array | null;
  responseBody: Uint8Array | null;
}

/** One group of the stats query; stats.ts shapes them into the API answer. */
export interface StatsGroup {
  model: string;
  namespace: string;
  status: number | null;
  error: boolean;
  complete: boolean;
  latencyBucket: number | null;
  count: number;
  weight: number;
}

/** One group of the time-series query: a time bucket × status × latency bucket (timeseries.ts shapes them). */
export interface TimeSeriesGroup {
  /** Start of the time bucket, epoch ms (a multiple of the step). */
  startMs: number;
  status: number | null;
  error: boolean;
  latencyBucket: number | null;
  count: number;
  weight: number;
}

export interface PutResult {
  /** Halves newly stored. */
  stored: number;
  /** Halves already there (retries). */
  duplicates: number;
  /** Per input half, in order: true when newly stored, false when it was a duplicate. */
  fresh: boolean[];
  /**
   * Instance rows written for exchanges that asked for them (`ExchangeHalf.instances`) and were
   * completed by this batch, and the exchanges that could not be split, by reason (for metrics).
   */
  instances?: { rows: number; skipped: Partial<Record<InstanceSkipReason, number>> };
}

/** One prediction of a stored exchange (`--log-instances`): a row of the `instances` table. */
export interface StoredInstance {
  /** The exchange's store key (exchangeKey). */
  key: string;
  /** The exchange's CloudEvents id. */
  exchangeId: string;
  /** Its place in the request, 0-based. */
  index: number;
  /** The exchange's time (request time), epoch ms. */
  timeMs: number;
  model: string;
  namespace: string;
  component: string;
  /** The exchange's sample weight (1/rate when sampled): weigh rows by it in aggregates. */
  sampleWeight: number;
  input: unknown;
  /** Absent when the exchange's response was not split (never, for rows the collector writes today). */
  prediction?: unknown;
}

/** Filters of the instance listing: the exchange listing's, without status and body text. */
export type InstanceFilter = Pick<
  ExchangeFilter,
  'allow' | 'model' | 'namespace' | 'component' | 'sinceMs' | 'untilMs'
>;

/** Where an instance page ends: newest exchange first, then index order within an exchange. */
export interface InstancePosition {
  timeMs: number;
  key: string;
  index: number;
}

export interface InstancePage {
  items: StoredInstance[];
  next: InstancePosition | null;
}

/**
 * Exchanges `erase` reads and deletes per round, both stores: the whole erasure is one
 * transaction, and rounds keep each statement's rows and parameters bounded.
 */
export const ERASE_CHUNK = 500;

export interface ExchangeStore {
  /** For logs and /healthz; no secrets. */
  readonly name: string;
  /** Opens the database and applies pending migrations. */
  start(): Promise<void>;
  /** Finishes in-flight work and closes. Idempotent. */
  shutdown(): Promise<void>;
  /** Stores halves in one durable transaction. Idempotent on (id, kind). */
  putEvents(batch: readonly ExchangeHalf[]): Promise<PutResult>;
  listExchanges(filter: ExchangeFilter, page: PageRequest): Promise<ExchangePage>;
  /** By store key, else the newest exchange with that event id; only among `allow` when given. */
  getExchange(id: string, allow?: AccessScope): Promise<ExchangeWithBodies | undefined>;
  stats(window: { sinceMs: number; untilMs: number }, filter: ExchangeFilter): Promise<StatsGroup[]>;
  /**
   * Counts per time bucket of `stepMs` over a window aligned to the step (`q` is ignored, as in
   * stats). Steps of whole minutes read the rollups; shorter ones read the rows of the window.
   */
  timeSeries(
    window: { sinceMs: number; untilMs: number },
    filter: ExchangeFilter,
    stepMs: number,
  ): Promise<TimeSeriesGroup[]>;
  /** The instance rows of one exchange (by store key), in index order; empty when it has none. */
  getInstances(key: string): Promise<StoredInstance[]>;
  /** Instance rows, newest exchange first, then by index; keyset-paged like listExchanges. */
  listInstances(
    filter: InstanceFilter,
    page: { limit: number; after?: InstancePosition },
  ): Promise<InstancePage>;
  /** Deletes exchanges (and their instance rows) whose time is before `t` (epoch ms); returns how many. */
  deleteOlderThan(t: number): Promise<number>;
  /**
   * Erasure (privacy requests): deletes every exchange the filter matches, with its bodies, and
   * takes it out of the rollups, in one transaction; returns how many. The caller refuses an
   * empty filter. SQLite also zeroes what is freed (secure_delete) and empties the WAL, so the
   * bytes are gone from the files, not only hidden (sqlite-store.ts).
   */
  erase(filter: ExchangeFilter): Promise<number>;
}
