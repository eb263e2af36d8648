import { describe, expect, it } from 'vitest';
import { createBodyWatch } from './body-watch.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('body watch', () => {
  it('calls onIdle once for a silent body, never for one that keeps sending or is done', async () => {
    const watch = createBodyWatch(200);
    const idle: string[] = [];
    watch.add(() => idle.push('silent'));
    const sending = watch.add(() => idle.push('sending'));
    const finished = watch.add(() => idle.push('finished'));
    finished.done();
    for (let i = 0; i < 8; i++) {
      await sleep(60);
      sending.touch();
    }
    sending.done();
    await sleep(400);
    expect(idle).toEqual(['silent']);
  });
});
