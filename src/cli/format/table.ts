/**
 * Tables that fit the terminal: `query`'s list, `tail`'s lines.
 *
 *   columns + rows + width ──layout──▶ widths (natural → compact forms → cut to min → drop) ──render──▶ lines
 *
 * Columns keep their natural width when everything fits. When it does not, columns with a compact
 * form switch to it, then flexible columns (previews) shrink, then the others shrink to their
 * minimum with an ellipsis, and last the least important columns are left out. A column marked
 * `keep: Infinity` (the id a person copies into `query --id`) is never cut or left out.
 * `tail` lays out once, before any row exists (`fixed`): widths come from each column's `max`.
 */
import { cut, displayWidth, type Styles } from '../../core/terminal.js';

export interface Column<R> {
  header: string;
  /** The cell's text (one line, already printable). */
  value(row: R): string;
  /** A shorter form used when the full one does not fit (e.g. time of day instead of a timestamp). */
  compact?(row: R): string;
  /** Narrowest the column is cut to before it is left out. */
  min: number;
  /** Widest it grows; with `fixed` layout, its width. */
  max: number;
  align?: 'right';
  /** Takes the width left over (previews); shrinks first. */
  flex?: boolean;
  /** Higher is left out later; Infinity is never cut nor left out. */
  keep: number;
  style?(row: R, text: string, s: Styles): string;
}

export interface Layout<R> {
  columns: Column<R>[];
  widths: number[];
  compact: boolean[];
}

const GAP = 2;

function total(widths: number[]): number {
  return widths.reduce((a, b) => a + b, 0) + GAP * Math.max(0, widths.length - 1);
}

/** Widths for `columns` within `width`. With `fixed`, rows are ignored and each column gets its `max`. */
export function layout<R>(all: Column<R>[], rows: R[], width: number, fixed = false): Layout<R> {
  const natural = (c: Column<R>, compact: boolean): number => {
    if (fixed) return c.max;
    let w = displayWidth(c.header);
    for (const r of rows) w = Math.max(w, displayWidth(compact && c.compact ? c.compact(r) : c.value(r)));
    return c.keep === Infinity ? w : Math.min(w, c.max);
  };
  let columns = [...all];
  for (;;) {
    const compact = columns.map(() => false);
    // With `fixed`, flexible columns start at their minimum and get what is left at the end.
    let widths = columns.map((c) => (fixed && c.flex === true ? c.min : natural(c, false)));
    const isFlex = (i: number): boolean => (columns[i] as Column<R>).flex === true;
    const shrink = (indexes: number[]): void => {
      for (const i of indexes) {
        const over = total(widths) - width;
        if (over <= 0) return;
        const c = columns[i] as Column<R>;
        const w = widths[i] as number;
        widths[i] = Math.max(Math.min(c.min, w), w - over);
      }
    };
    const byKeep = columns
      .map((_, i) => i)
      .filter((i) => (columns[i] as Column<R>).keep !== Infinity)
      .sort((a, b) => (columns[a] as Column<R>).keep - (columns[b] as Column<R>).keep);
    // A preview is the least precious text in a row: it shrinks first.
    shrink(byKeep.filter(isFlex));
    // Then the compact forms (with `fixed` there are no rows to measure them by).
    if (!fixed && total(widths) > width) {
      columns.forEach((c, i) => {
        if (c.compact) {
          compact[i] = true;
          widths[i] = Math.min(widths[i] as number, natural(c, true));
        }
      });
    }
    // Then every other column, the least important first.
    shrink(byKeep.filter((i) => !isFlex(i)));
    if (total(widths) <= width || columns.every((c) => c.keep === Infinity)) {
      // Flexible columns share what is left, up to their natural width (max with `fixed`).
      const flex = columns.map((c, i) => i).filter((i) => (columns[i] as Column<R>).flex === true);
      let spare = width - total(widths);
      // Equal shares; what one column does not need goes round again to the others.
      for (let given = -1; spare > 0 && given !== 0;) {
        given = 0;
        for (const i of flex) {
          const c = columns[i] as Column<R>;
          const want =
            (fixed ? Math.max(c.max, width) : natural(c, compact[i] as boolean)) - (widths[i] as number);
          const add = Math.max(0, Math.min(want, spare, Math.ceil(spare / flex.length)));
          widths[i] = (widths[i] as number) + add;
          spare -= add;
          given += add;
        }
      }
      widths = widths.map((w) => Math.max(0, w));
      return { columns, widths, compact };
    }
    // Still too wide: leave out the least important column and lay out again.
    let drop = -1;
    columns.forEach((c, i) => {
      if (c.keep !== Infinity && (drop < 0 || c.keep < (columns[drop] as Column<R>).keep)) drop = i;
    });
    columns = columns.filter((_, i) => i !== drop);
  }
}

function fit(text: string, width: number, align: 'right' | undefined, last: boolean): string {
  const t = cut(text, width);
  const pad = ' '.repeat(Math.max(0, width - displayWidth(t)));
  if (align === 'right') return pad + t;
  return last ? t : t + pad;
}

/** One row as a line (no newline). The last column is not padded. */
export function renderRow<R>(l: Layout<R>, row: R, s: Styles): string {
  return l.columns
    .map((c, i) => {
      const text = l.compact[i] && c.compact ? c.compact(row) : c.value(row);
      const cell = fit(text, l.widths[i] as number, c.align, i === l.columns.length - 1);
      return c.style ? c.style(row, cell, s) : cell;
    })
    .join(' '.repeat(GAP))
    .trimEnd();
}

export function renderHeader<R>(l: Layout<R>, s: Styles): string {
  return s.bold(
    l.columns
      .map((c, i) => fit(c.header, l.widths[i] as number, c.align, i === l.columns.length - 1))
      .join(' '.repeat(GAP))
      .trimEnd(),
  );
}

/** Header and rows, laid out for `width`, one line each. */
export function renderTable<R>(columns: Column<R>[], rows: R[], width: number, s: Styles): string {
  const l = layout(columns, rows, width);
  return [renderHeader(l, s), ...rows.map((r) => renderRow(l, r, s))].join('\n') + '\n';
}
