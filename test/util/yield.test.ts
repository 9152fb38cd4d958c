/** yieldToHost (src/util/yield.ts): resolves after the host's pending tasks, with or without Node's setImmediate. */
import { afterEach, describe, expect, it } from 'vitest';
import { yieldToHost } from '../../src/util/yield.js';

const g = globalThis as { setImmediate?: unknown; MessageChannel?: unknown };
const saved = { setImmediate: g.setImmediate, MessageChannel: g.MessageChannel };
afterEach(() => {
  g.setImmediate = saved.setImmediate;
  g.MessageChannel = saved.MessageChannel;
});

/** Whether a timer queued before the yield has run by the time the yield resolves. */
async function timerRanBefore(): Promise<string[]> {
  const order: string[] = [];
  setTimeout(() => order.push('timer'), 0);
  await new Promise((r) => setTimeout(r, 5)); // the timer is due now
  await yieldToHost().then(() => order.push('yield'));
  return order;
}

describe('yieldToHost', () => {
  it('lets due timers run first, with setImmediate (Node)', async () => {
    expect(await timerRanBefore()).toEqual(['timer', 'yield']);
  });

  it('works without setImmediate (a browser): through a MessageChannel task', async () => {
    delete g.setImmediate;
    let channels = 0;
    const Real = saved.MessageChannel as typeof MessageChannel;
    g.MessageChannel = class extends Real {
      constructor() {
        super();
        channels++;
      }
    };
    expect(await timerRanBefore()).toEqual(['timer', 'yield']);
    expect(channels).toBe(1);
  });

  it('works with neither setImmediate nor MessageChannel: through setTimeout(0)', async () => {
    delete g.setImmediate;
    delete g.MessageChannel;
    expect(await timerRanBefore()).toEqual(['timer', 'yield']);
  });
});
