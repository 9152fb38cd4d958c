/**
 * bench/browser.ts's arithmetic (bench/browser/summary.ts), without timing anything: medians and
 * spreads over rounds, which series each ratio divides (TF.js by network, native by network and
 * batch), the parameter guard, and the table.
 */
import { describe, expect, it } from 'vitest';
import { stepCounts } from '../../bench/browser/net.js';
import { type Series, cell, checkParams, markdownTable, ratios, summarize } from '../../bench/browser/summary.js';

const series = (engine: Series['engine'], net: Series['net'], batch: number, imagesPerSec: number[], note?: string): Series => ({
  engine, net, batch, imagesPerSec, params: net === 'lecture-cnn' ? 295_914 : 407_050, threads: 1, backend: 'test', note,
});

describe('browser benchmark summary', () => {
  it('takes the median of the rounds and says how far they spread', () => {
    const s = summarize(series('page-wasm', 'lecture-cnn', 64, [90, 110, 100]));
    expect([s.median, s.min, s.max]).toEqual([100, 90, 110]);
    expect(s.spreadPct).toBeCloseTo(20, 10);
    expect(() => summarize(series('tfjs', 'paper-mlp', 128, []))).toThrow(/tfjs paper-mlp batch 128: no rounds measured/);
  });

  it('divides wasm by TF.js of the same network (its own batch) and by native of the same batch', () => {
    const all = [
      series('page-wasm', 'lecture-cnn', 64, [40]), series('page-wasm', 'lecture-cnn', 200, [50]),
      series('tfjs', 'lecture-cnn', 16, [0.25], '(batch 16)'),
      series('node-native', 'lecture-cnn', 64, [100]), series('node-native', 'lecture-cnn', 200, [200]),
      series('node-wasm', 'lecture-cnn', 64, [20]),
      series('page-wasm', 'paper-mlp', 128, [3000]),
    ].map(summarize);
    const none = { wasmMtOverTfjs: null, wasmMtOverNativeMt: null, wasmThreadSpeedup: null };
    expect(ratios(all)).toEqual([
      { net: 'lecture-cnn', batch: 64, wasmOverTfjs: 160, wasmOverNative: 0.4, nodeWasmOverNative: 0.2, pageOverNode: 2, ...none },
      { net: 'lecture-cnn', batch: 200, wasmOverTfjs: 200, wasmOverNative: 0.25, nodeWasmOverNative: null, pageOverNode: null, ...none },
      { net: 'paper-mlp', batch: 128, wasmOverTfjs: null, wasmOverNative: null, nodeWasmOverNative: null, pageOverNode: null, ...none },
    ]);
    const table = markdownTable(all);
    expect(table).toContain('| lecture CNN | 64 | 40 | 0.25 (batch 16) | 100 | 20 | 160× | 40% |');
    expect(table).toContain('| MLP 784-512-10 | 128 | 3000 | — | — | — | — | — |');
    expect(table).not.toContain('threads |');
  });

  it('divides the best rounds when asked (the least disturbed on a shared machine)', () => {
    const all = [series('page-wasm', 'paper-mlp', 128, [30, 60, 50]), series('node-native', 'paper-mlp', 128, [200, 100, 150])].map(summarize);
    expect(ratios(all)[0].wasmOverNative).toBeCloseTo(50 / 150, 12);
    expect(ratios(all, 'best')[0].wasmOverNative).toBeCloseTo(60 / 200, 12);
  });

  it('divides threaded wasm by native at the same threads, by TF.js and by one-thread wasm, in a second table', () => {
    const two = (s: Series): Series => ({ ...s, threads: 2 });
    const all = [
      series('page-wasm', 'lecture-cnn', 64, [40]), two(series('page-wasm-mt', 'lecture-cnn', 64, [70])),
      series('tfjs', 'lecture-cnn', 16, [0.5]), two(series('node-native-mt', 'lecture-cnn', 64, [140])),
    ].map(summarize);
    expect(ratios(all)[0]).toMatchObject({ wasmMtOverTfjs: 140, wasmMtOverNativeMt: 0.5, wasmThreadSpeedup: 1.75 });
    const table = markdownTable(all);
    expect(table).toContain('| training, img/s, 2 threads | batch |');
    expect(table).toContain('| lecture CNN | 64 | 70 | 140 | 50% | 140× | 1.75× |');
  });

  it('shows the range over rounds beside the median, with decimals below 10 img/s', () => {
    expect(cell(summarize(series('node-native', 'paper-mlp', 128, [5000, 5200, 4800])))).toBe('5000 (4800–5200)');
    expect(cell(summarize(series('tfjs', 'lecture-cnn', 16, [0.16, 0.2])))).toBe('0.20 (0.16–0.20)');
    expect(cell(undefined)).toBe('—');
  });

  it('refuses a network with another parameter count', () => {
    expect(() => checkParams('tfjs', 'lecture-cnn', 295_914)).not.toThrow();
    expect(() => checkParams('tfjs', 'lecture-cnn', 296_000)).toThrow('TF.js CPU, Chromium worker built lecture-cnn with 296000 trainable parameters; the benchmark network has 295914');
  });

  it('warms up and measures as measureThroughput does', () => {
    expect(stepCounts('lecture-cnn', 3)).toEqual({ warm: 3, reps: 3 });
    expect(stepCounts('paper-mlp', 3)).toEqual({ warm: 20, reps: 24 });
  });
});
