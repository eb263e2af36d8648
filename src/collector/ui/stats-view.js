// @ts-check
/**
 * The stats strip: totals, latency percentiles and counts by status and by model over the
 * selected window (GET api/v1/stats). Raw counts are what is stored; the weighted estimate
 * (≈) is how many exchanges really happened when the sender sampled.
 * Status chips and model rows are buttons that narrow the list to them.
 */
import { h } from './dom.js';
import { formatCount, formatLatency, statusKeyClass } from './format.js';

const MODELS_SHOWN = 12;

/**
 * @param {any} stats  the API's stats answer
 * @param {{ onStatus: (key: string) => void, onModel: (model: string, namespace: string) => void, searchIgnored: boolean }} opts
 * @returns {HTMLElement[]}
 */
export function renderStats(stats, opts) {
  const t = stats.total;
  const lat = t.latencyMs;
  const tiles = h(
    'dl',
    { class: 'tiles' },
    tile('Exchanges', formatCount(t.count), estimate(t.count, t.weightedCount)),
    tile('Complete', formatCount(t.complete), t.count ? `${Math.round((100 * t.complete) / t.count)}%` : ''),
    tile('p50 latency', formatLatency(lat?.p50)),
    tile('p99 latency', formatLatency(lat?.p99)),
  );

  const chips = h('ul', { class: 'chips', 'aria-label': 'Exchanges by status' });
  for (const s of stats.byStatus) {
    const label = s.status === 'error' ? 'error' : s.status === 'incomplete' ? 'incomplete' : s.status;
    chips.append(
      h(
        'li',
        {},
        h(
          'button',
          {
            type: 'button',
            class: `chip st-${statusKeyClass(s.status)}`,
            title: `Show only ${label}`,
            onclick: () => opts.onStatus(s.status),
          },
          h('span', { class: 'chip-k' }, label),
          ' ',
          h('span', { class: 'chip-v' }, formatCount(s.count)),
          estimate(s.count, s.weightedCount)
            ? h('span', { class: 'muted' }, ` ${estimate(s.count, s.weightedCount)}`)
            : null,
        ),
      ),
    );
  }

  const out = [tiles];
  if (stats.byStatus.length) out.push(chips);
  if (stats.byModel.length) out.push(modelsTable(stats.byModel, opts));
  if (opts.searchIgnored)
    out.push(h('p', { class: 'muted small' }, 'Statistics cover the filters except the body search.'));
  return out;
}

/** `≈1,020` when sampling makes the estimate differ from the count. @param {number} count @param {number} weighted */
function estimate(count, weighted) {
  return Math.round(weighted) !== count ? `≈${formatCount(weighted)} est.` : '';
}

/** @param {string} label @param {string} value @param {string} [sub] */
function tile(label, value, sub) {
  return h(
    'div',
    { class: 'tile' },
    h('dt', {}, label),
    h('dd', {}, h('span', { class: 'tile-v' }, value), sub ? h('span', { class: 'tile-s' }, sub) : null),
  );
}

/** @param {any[]} models @param {{ onModel: (model: string, namespace: string) => void }} opts */
function modelsTable(models, opts) {
  const sorted = [...models].sort((a, b) => b.count - a.count);
  const tbody = h('tbody');
  const max = sorted[0]?.count || 1;
  for (const m of sorted.slice(0, MODELS_SHOWN)) {
    const bar = h('span', { class: 'bar' });
    bar.style.width = `${Math.max(2, Math.round((100 * m.count) / max))}%`;
    const statusCells = m.byStatus.map((/** @type {any} */ s) =>
      h(
        'span',
        { class: `mini st-${statusKeyClass(s.status)}`, title: `${s.status}: ${s.count}` },
        `${s.status} ${formatCount(s.count)}`,
      ),
    );
    tbody.append(
      h(
        'tr',
        {},
        h(
          'th',
          { scope: 'row' },
          h(
            'button',
            {
              type: 'button',
              class: 'linklike',
              title: 'Show only this model',
              onclick: () => opts.onModel(m.model, m.namespace),
            },
            m.model || '(no model)',
          ),
          m.namespace ? h('span', { class: 'where' }, m.namespace) : null,
        ),
        h('td', { class: 'num' }, h('span', { class: 'bar-wrap' }, bar), formatCount(m.count)),
        h('td', { class: 'num muted' }, estimate(m.count, m.weightedCount)),
        h('td', { class: 'statuses' }, statusCells),
        h('td', { class: 'num' }, formatLatency(m.latencyMs?.p50)),
        h('td', { class: 'num' }, formatLatency(m.latencyMs?.p90)),
        h('td', { class: 'num' }, formatLatency(m.latencyMs?.p99)),
      ),
    );
  }
  const more =
    sorted.length > MODELS_SHOWN
      ? h('p', { class: 'muted small' }, `…and ${sorted.length - MODELS_SHOWN} more models.`)
      : null;
  return h(
    'details',
    { class: 'models' },
    h('summary', {}, `By model (${sorted.length})`),
    h(
      'table',
      { class: 'models-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Model', 'Count', 'Estimate', 'Statuses', 'p50', 'p90', 'p99'].map((c) =>
            h('th', { scope: 'col' }, c),
          ),
        ),
      ),
      tbody,
    ),
    more,
  );
}
