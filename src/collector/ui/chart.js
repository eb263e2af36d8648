// @ts-check
/* global document */
/**
 * The chart above the list: exchanges per time bucket, stacked by status class, with p50 and
 * p99 latency lines (GET api/v1/timeseries; counts and percentiles are sample-weighted).
 * Dragging across the plot selects a time range (brush zoom); hovering reads out a bucket.
 *
 *   timeseries answer ──drawChart──▶ <svg> bars + lines + brush overlay
 *   pointer drag ──▶ onBrush(fromMs, toMs) ──▶ custom range in the URL ──▶ list, stats, chart reload
 *
 * SVG is built with createElementNS and styled by classes (the page's CSP allows no inline
 * style attributes in HTML, and no script from anywhere but these files).
 */
import { h } from './dom.js';
import { formatCount, formatLatency, formatTime, parseTime } from './format.js';

const NS = 'http://www.w3.org/2000/svg';
/** Plot height: shorter on a phone, where the rows matter more. */
const heightFor = (/** @type {number} */ width) => (width < 500 ? 56 : 90);
/** Stacking order, bottom up; the CSS gives each a colour (.s-2xx …). */
const ORDER = ['2xx', '1xx', '3xx', '4xx', '5xx', 'error', 'incomplete'];

/**
 * @typedef {{ time: string, count: number, weighted: Record<string, number>, p50: number|null, p99: number|null }} Bucket
 * @typedef {{ since: string, until: string, stepMs: number, series: string[], buckets: Bucket[] }} TimeSeries
 */

/** @param {string} tag @param {Record<string, string|number>} attrs @returns {SVGElement} */
function svg(tag, attrs) {
  const el = /** @type {SVGElement} */ (document.createElementNS(NS, tag));
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/** @param {Bucket} b */
const totalOf = (b) => Object.values(b.weighted).reduce((s, n) => s + n, 0);

/**
 * Draws the chart into `box` (which must be in the document, for its width).
 * @param {HTMLElement} box
 * @param {TimeSeries} ts
 * @param {{ utc: boolean, onBrush: (fromMs: number, toMs: number) => void }} opts
 */
export function drawChart(box, ts, opts) {
  const width = Math.max(200, box.clientWidth || 800);
  const HEIGHT = heightFor(width);
  const since = parseTime(ts.since) ?? 0;
  const until = parseTime(ts.until) ?? since + 1;
  const n = ts.buckets.length || 1;
  const bw = width / n;
  const maxCount = Math.max(1, ...ts.buckets.map(totalOf));
  const maxLat = Math.max(0, ...ts.buckets.map((b) => b.p99 ?? 0));
  const total = ts.buckets.reduce((s, b) => s + totalOf(b), 0);
  const bySeries = /** @type {Record<string, number>} */ ({});
  for (const b of ts.buckets)
    for (const [k, v] of Object.entries(b.weighted)) bySeries[k] = (bySeries[k] ?? 0) + v;

  const errors = (bySeries['5xx'] ?? 0) + (bySeries.error ?? 0) + (bySeries['4xx'] ?? 0);
  const plot = svg('svg', {
    class: 'chart-svg',
    width,
    height: HEIGHT,
    viewBox: `0 0 ${width} ${HEIGHT}`,
    role: 'img',
    'data-since': since,
    'data-until': until,
    'aria-label': `Exchanges over time: ${formatCount(total)} in ${n} buckets of ${stepText(ts.stepMs)}, ${formatCount(errors)} errors; peak ${formatCount(maxCount)} per bucket.`,
  });
  ts.buckets.forEach((b, i) => {
    let y = HEIGHT;
    for (const key of ORDER) {
      const v = b.weighted[key];
      if (!v) continue;
      const hgt = Math.max(1, (v / maxCount) * (HEIGHT - 4));
      y -= hgt;
      plot.append(
        svg('rect', { class: `bar s-${key}`, x: i * bw + 0.5, y, width: Math.max(1, bw - 1), height: hgt }),
      );
    }
  });
  // Latency lines on their own scale (the readout and the label give the numbers).
  for (const [key, cls] of /** @type {const} */ ([
    ['p50', 'lat-p50'],
    ['p99', 'lat-p99'],
  ])) {
    if (maxLat <= 0) break;
    const pts = ts.buckets
      .map((b, i) =>
        b[key] === null ? null : `${(i + 0.5) * bw},${HEIGHT - 2 - ((b[key] ?? 0) / maxLat) * (HEIGHT - 8)}`,
      )
      .filter(Boolean);
    if (pts.length > 1) plot.append(svg('polyline', { class: cls, points: pts.join(' '), fill: 'none' }));
    else if (pts.length === 1) {
      const [x, y] = String(pts[0]).split(',');
      plot.append(svg('circle', { class: cls, cx: Number(x), cy: Number(y), r: 2 }));
    }
  }
  const brush = svg('rect', { class: 'brush', x: 0, y: 0, width: 0, height: HEIGHT });
  brush.setAttribute('visibility', 'hidden');
  const overlay = svg('rect', { class: 'overlay', x: 0, y: 0, width, height: HEIGHT, fill: 'transparent' });
  plot.append(brush, overlay);

  const readout = h('span', { class: 'readout muted small', 'aria-hidden': 'true' });
  const tAt = (/** @type {number} */ x) =>
    since + (Math.min(width, Math.max(0, x)) / width) * (until - since);
  const xOf = (/** @type {PointerEvent} */ e) => e.clientX - plot.getBoundingClientRect().left;
  /** @type {number | null} */
  let start = null;
  overlay.addEventListener('pointerdown', (ev) => {
    const e = /** @type {PointerEvent} */ (ev);
    start = xOf(e);
    overlay.setPointerCapture(e.pointerId);
    brush.setAttribute('visibility', 'visible');
    brush.setAttribute('x', String(start));
    brush.setAttribute('width', '0');
  });
  overlay.addEventListener('pointermove', (ev) => {
    const e = /** @type {PointerEvent} */ (ev);
    const x = xOf(e);
    if (start !== null) {
      brush.setAttribute('x', String(Math.min(start, x)));
      brush.setAttribute('width', String(Math.abs(x - start)));
      readout.textContent = `${formatTime(new Date(tAt(Math.min(start, x))).toISOString(), opts.utc)} → ${formatTime(new Date(tAt(Math.max(start, x))).toISOString(), opts.utc)}`;
      return;
    }
    const b = ts.buckets[Math.min(n - 1, Math.max(0, Math.floor(x / bw)))];
    if (b) readout.textContent = bucketText(b, opts.utc);
  });
  overlay.addEventListener('pointerup', (ev) => {
    const e = /** @type {PointerEvent} */ (ev);
    if (start === null) return;
    const x = xOf(e);
    const [a, z] = [Math.min(start, x), Math.max(start, x)];
    start = null;
    brush.setAttribute('visibility', 'hidden');
    // A click is not a zoom: only a drag of a few pixels selects a range.
    if (z - a >= 4) opts.onBrush(Math.floor(tAt(a)), Math.ceil(tAt(z)));
  });
  overlay.addEventListener('pointerleave', () => {
    if (start === null) readout.textContent = '';
  });

  const legend = h(
    'ul',
    { class: 'legend', 'aria-label': 'Totals in the window' },
    ORDER.filter((k) => bySeries[k]).map((k) =>
      h(
        'li',
        {},
        h('span', { class: `swatch s-${k}`, 'aria-hidden': 'true' }),
        `${k} ${formatCount(bySeries[k] ?? 0)}`,
      ),
    ),
    maxLat > 0 ? h('li', {}, h('span', { class: 'swatch lat-p50', 'aria-hidden': 'true' }), 'p50') : null,
    maxLat > 0
      ? h(
          'li',
          {},
          h('span', { class: 'swatch lat-p99', 'aria-hidden': 'true' }),
          `p99 (max ${formatLatency(maxLat)})`,
        )
      : null,
  );
  const axis = h(
    'div',
    { class: 'axis muted small', 'aria-hidden': 'true' },
    h('span', {}, formatTime(ts.since, opts.utc).slice(5, 16)),
    h('span', {}, `${stepText(ts.stepMs)} buckets · peak ${formatCount(maxCount)} · drag to zoom`),
    h('span', {}, formatTime(ts.until, opts.utc).slice(5, 16)),
  );
  box.replaceChildren(h('div', { class: 'chart-top' }, legend, readout), plot, axis);
}

/** @param {Bucket} b @param {boolean} utc */
function bucketText(b, utc) {
  const parts = ORDER.filter((k) => b.weighted[k]).map((k) => `${k} ${formatCount(b.weighted[k] ?? 0)}`);
  return (
    `${formatTime(b.time, utc).slice(11, 19)} · ${parts.length ? parts.join(', ') : 'none'}` +
    (b.p50 !== null ? ` · p50 ${formatLatency(b.p50)} · p99 ${formatLatency(b.p99)}` : '')
  );
}

/** @param {number} ms */
function stepText(ms) {
  if (ms < 60_000) return `${ms / 1000} s`;
  if (ms < 3_600_000) return `${ms / 60_000} min`;
  if (ms < 86_400_000) return `${ms / 3_600_000} h`;
  return `${ms / 86_400_000} d`;
}
