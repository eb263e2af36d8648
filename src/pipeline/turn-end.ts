/**
 * Work put off to the end of the current event-loop turn, run in the order it was asked for.
 *
 *   turn: exchange A done ─spool.append (frame kept)─▶ atTurnEnd(spool flush)
 *         exchange B done ─spool.append (frame kept)      │
 *         proxy: answers of A, B ─atTurnEnd(res.end)───────┼─▶ end of turn (setImmediate):
 *                                                          ▼      1. spool: every frame of the turn, one write
 *                                                                 2. the answers' last bytes go out
 *
 * Why: under load one turn completes many exchanges. Writing each to the spool on its own was one
 * syscall per exchange; one write per turn costs one. The spool's promise stays what a client can
 * see: an answer's last byte leaves only after its exchange is written (spool/index.ts, rule 1),
 * because the proxy ends answers here, after the spool's flush that was asked for first.
 * setImmediate, not nextTick: a nextTick runs after each I/O callback, so a "turn" would hold one
 * exchange; the check phase comes once all the sockets that were ready have been served.
 */
const queue: (() => void)[] = [];
/** The next entry to run: a run started from inside another (flushTurnEnd) goes on where it is. */
let next = 0;
let scheduled = false;

/**
 * Runs the queue. Only the timer clears `scheduled`: after an early run (flushTurnEnd) the timer
 * already queued this turn takes whatever is asked for next, instead of a second timer.
 */
function runQueued(): void {
  let failure: unknown;
  // Work added while this runs (an append from a callback) joins the same run, after what is here.
  while (next < queue.length) {
    const fn = queue[next++] as () => void;
    try {
      fn();
    } catch (err) {
      // The rest still runs (a client's answer must not wait on another's failure); the first error surfaces.
      failure ??= err;
    }
  }
  queue.length = 0;
  next = 0;
  if (failure !== undefined) throw failure;
}

function runTurnEnd(): void {
  scheduled = false;
  runQueued();
}

/** Runs `fn` at the end of this turn, after everything asked for earlier. */
export function atTurnEnd(fn: () => void): void {
  queue.push(fn);
  if (!scheduled) {
    scheduled = true;
    setImmediate(runTurnEnd);
  }
}

/**
 * Runs what waits for the end of the turn now (earlier is always allowed: it only makes the
 * batch smaller). For a caller that cannot hold its answer back: in-process capture, whose
 * application ends the response itself.
 */
export function flushTurnEnd(): void {
  if (next < queue.length) runQueued();
}

/** Whether something waits for the end of this turn (no: the proxy ends its answer at once). */
export function turnEndPending(): boolean {
  return next < queue.length;
}
