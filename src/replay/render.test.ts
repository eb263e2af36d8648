import { describe, expect, it } from 'vitest';
import { renderTable } from './render.js';
import { SummaryBuilder, type ExchangeOutcome } from './summary.js';

describe('replay summary table', () => {
  it('makes captured ids and values printable: no escape sequence reaches the terminal', () => {
    const o: ExchangeOutcome = {
      id: 'evil\u001b[2J\u001b]0;title\u0007',
      model: 'm',
      method: 'POST',
      path: '/v1/models/m:predict',
      outcome: 'different',
      status: { old: 200, new: 200 },
      latencyMs: { old: 1, new: 1 },
      diff: [{ path: 'k\u001b[31m', old: 'a\u001b[1m', new: 'b' }],
      diffCount: 1,
    };
    const b = new SummaryBuilder({ from: 'http://a', to: 'http://b', compare: 'json' });
    b.add(o);
    const out = renderTable(b.summary(), [o]);
    expect(out).not.toContain('\u001b');
    expect(out).not.toContain('\u0007');
    expect(out).toContain('evil␛[2J␛]0;title␇');
  });
});
