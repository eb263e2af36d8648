/**
 * Server-sent events with real flushes: every event is its own write on a no-delay socket,
 * so a client (and inferlog's capture) sees chunks as they are produced, not at the end.
 *
 *   handler ──send(event)──▶ res.write("data: …\n\n") ──▶ socket   (wait(ms) between tokens)
 *
 * When the client goes away, `open` turns false and pending waits end early, so the
 * generator stops instead of writing into a closed socket.
 */
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export class SseStream {
  private readonly res: ServerResponse;
  private readonly gone = new AbortController();

  constructor(res: ServerResponse) {
    this.res = res;
    res.once('close', () => this.gone.abort());
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    res.socket?.setNoDelay(true);
    res.flushHeaders();
  }

  get open(): boolean {
    return !this.gone.signal.aborted && !this.res.writableEnded;
  }

  /** Writes one `data:` event; a string is sent as is (e.g. `[DONE]`), anything else as JSON. */
  async send(data: unknown): Promise<void> {
    if (!this.open) return;
    const text = typeof data === 'string' ? data : JSON.stringify(data);
    if (!this.res.write(`data: ${text}\n\n`)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.res.off('drain', done);
          this.res.off('close', done);
          resolve();
        };
        this.res.once('drain', done);
        this.res.once('close', done);
      });
    }
  }

  /** Waits `ms`; resolves early (false) if the client went away. */
  async wait(ms: number): Promise<boolean> {
    if (ms <= 0) return this.open;
    try {
      await sleep(ms, undefined, { signal: this.gone.signal });
    } catch {
      return false;
    }
    return this.open;
  }

  end(): void {
    if (!this.res.writableEnded) this.res.end();
  }
}
