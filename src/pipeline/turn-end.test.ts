import { describe, expect, it } from 'vitest';
import { atTurnEnd, flushTurnEnd, turnEndPending } from './turn-end.js';

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('turn-end', () => {
  it('runs the work of a turn once, in the order it was asked for, after the turn', async () => {
    const ran: string[] = [];
    atTurnEnd(() => ran.push('spool write'));
    atTurnEnd(() => {
      ran.push('answer A');
      atTurnEnd(() => ran.push('added while running'));
    });
    atTurnEnd(() => ran.push('answer B'));
    expect(ran).toEqual([]);
    expect(turnEndPending()).toBe(true);
    await nextTurn();
    expect(ran).toEqual(['spool write', 'answer A', 'answer B', 'added while running']);
    expect(turnEndPending()).toBe(false);
    await nextTurn();
    expect(ran).toHaveLength(4);
  });

  it('flushTurnEnd runs it now, even from inside a run, each entry once', async () => {
    const ran: string[] = [];
    atTurnEnd(() => {
      ran.push('a');
      flushTurnEnd(); // e.g. an in-process answer ended from inside the turn's work
    });
    atTurnEnd(() => ran.push('b'));
    flushTurnEnd();
    expect(ran).toEqual(['a', 'b']);
    await nextTurn();
    expect(ran).toEqual(['a', 'b']);
  });

  it('a failing entry does not keep the others from running', async () => {
    const ran: string[] = [];
    atTurnEnd(() => {
      throw new Error('boom');
    });
    atTurnEnd(() => ran.push('after'));
    expect(() => flushTurnEnd()).toThrow('boom');
    expect(ran).toEqual(['after']);
    expect(turnEndPending()).toBe(false);
  });
});
