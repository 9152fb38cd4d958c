/**
 * The browser benchmark's arithmetic, apart from any timing: per-round img/s of each engine →
 * median, range and spread; the ratios the issue's targets are about (wasm / TF.js CPU on the
 * CNN ≥ 100×, wasm / native single-threaded ≥ 40%); the guard that every engine built the same
 * network; and the Markdown table bench/browser.ts prints.
 */
import { type BenchNet, EXPECTED_PARAMS, median } from './net.js';

export type Engine = 'page-wasm' | 'tfjs' | 'node-native' | 'node-wasm' | 'page-wasm-mt' | 'node-native-mt';

export const ENGINE_LABEL: Record<Engine, string> = {
  'page-wasm': 'fitlab wasm, Chromium worker',
  tfjs: 'TF.js CPU, Chromium worker',
  'node-native': 'fitlab native, Node, 1 thread',
  'node-wasm': 'fitlab wasm, Node',
  'page-wasm-mt': 'fitlab wasm threaded, Chromium worker',
  'node-native-mt': 'fitlab native threaded, Node',
};

/** One engine on one network and batch: img/s of each round, and what it reported. */
export interface Series {
  engine: Engine;
  net: BenchNet;
  batch: number;
  imagesPerSec: number[];
  params: number;
  threads: number;
  backend: string;
  /** extra words for the table (e.g. TF.js timed at a smaller batch) */
  note?: string;
}

export interface SeriesSummary extends Series {
  median: number;
  min: number;
  max: number;
  /** (max − min) / median, in percent */
  spreadPct: number;
}

export interface Ratio {
  net: BenchNet;
  batch: number;
  /** page wasm / TF.js CPU (TF.js's own batch may differ: img/s against img/s) */
  wasmOverTfjs: number | null;
  /** page wasm / native single-threaded, same batch */
  wasmOverNative: number | null;
  /** wasm in Node / native single-threaded */
  nodeWasmOverNative: number | null;
  /** wasm in the page / wasm in Node */
  pageOverNode: number | null;
  /** threaded wasm in the page / TF.js CPU */
  wasmMtOverTfjs: number | null;
  /** threaded wasm in the page / native at the same thread count */
  wasmMtOverNativeMt: number | null;
  /** threaded wasm in the page / single-threaded wasm in the page */
  wasmThreadSpeedup: number | null;
}

/** Median, range and spread of a series; throws when it has no rounds. */
export function summarize(s: Series): SeriesSummary {
  if (s.imagesPerSec.length === 0) throw new RangeError(`${s.engine} ${s.net} batch ${s.batch}: no rounds measured`);
  const med = median(s.imagesPerSec);
  const min = Math.min(...s.imagesPerSec);
  const max = Math.max(...s.imagesPerSec);
  return { ...s, median: med, min, max, spreadPct: (100 * (max - min)) / med };
}

/** A benchmark that compares different networks is wrong: every engine must build the expected parameter count. */
export function checkParams(engine: Engine, net: BenchNet, params: number): void {
  if (params !== EXPECTED_PARAMS[net]) {
    throw new Error(`${ENGINE_LABEL[engine]} built ${net} with ${params} trainable parameters; the benchmark network has ${EXPECTED_PARAMS[net]}`);
  }
}

/**
 * Ratios per fitlab (network, batch): TF.js is matched by network only (it is timed at its own
 * batch). `of`: the rounds' median (default), or each series' best round — on a shared machine
 * other work only ever slows a step down, so the best rounds are the least disturbed.
 */
export function ratios(all: SeriesSummary[], of: 'median' | 'best' = 'median'): Ratio[] {
  const find = (engine: Engine, net: BenchNet, batch?: number): SeriesSummary | undefined =>
    all.find((s) => s.engine === engine && s.net === net && (batch === undefined || s.batch === batch));
  const v = (s: SeriesSummary): number => (of === 'best' ? s.max : s.median);
  const div = (a: SeriesSummary | undefined, b: SeriesSummary | undefined): number | null => (a && b ? v(a) / v(b) : null);
  return all.filter((s) => s.engine === 'page-wasm').map((w) => ({
    net: w.net,
    batch: w.batch,
    wasmOverTfjs: div(w, find('tfjs', w.net)),
    wasmOverNative: div(w, find('node-native', w.net, w.batch)),
    nodeWasmOverNative: div(find('node-wasm', w.net, w.batch), find('node-native', w.net, w.batch)),
    pageOverNode: div(w, find('node-wasm', w.net, w.batch)),
    wasmMtOverTfjs: div(find('page-wasm-mt', w.net, w.batch), find('tfjs', w.net)),
    wasmMtOverNativeMt: div(find('page-wasm-mt', w.net, w.batch), find('node-native-mt', w.net, w.batch)),
    wasmThreadSpeedup: div(find('page-wasm-mt', w.net, w.batch), w),
  }));
}

export const NET_LABEL: Record<BenchNet, string> = { 'lecture-cnn': 'lecture CNN', 'paper-mlp': 'MLP 784-512-10' };

/** "123 (118–130)": the median and the range over rounds (one decimal below 10 img/s). */
export function cell(s: SeriesSummary | undefined): string {
  if (!s) return '—';
  const f = (v: number): string => (v < 10 ? v.toFixed(2) : v.toFixed(0));
  const range = s.imagesPerSec.length > 1 ? ` (${f(s.min)}–${f(s.max)})` : '';
  return `${f(s.median)}${range}${s.note ? ` ${s.note}` : ''}`;
}

export const times = (r: number | null): string => (r === null ? '—' : r >= 10 ? `${r.toFixed(0)}×` : `${r.toFixed(2)}×`);
export const percent = (r: number | null): string => (r === null ? '—' : `${(100 * r).toFixed(0)}%`);

/**
 * The Markdown tables: training img/s (median, range over rounds) and the ratios — one thread
 * (the issue's targets), then, when measured, the threaded wasm against native at the same threads.
 */
export function markdownTable(all: SeriesSummary[]): string {
  const rs = ratios(all);
  const at = (e: Engine, net: BenchNet, batch?: number): SeriesSummary | undefined =>
    all.find((s) => s.engine === e && s.net === net && (batch === undefined || s.batch === batch));
  const lines = [
    '| training, img/s (median, range) | batch | fitlab wasm, Chromium worker | TF.js CPU, Chromium worker | fitlab native, Node, 1 thread | fitlab wasm, Node | wasm / TF.js CPU | wasm / native |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rs) {
    lines.push(`| ${NET_LABEL[r.net]} | ${r.batch} | ${cell(at('page-wasm', r.net, r.batch))} | ${cell(at('tfjs', r.net))} | ${cell(at('node-native', r.net, r.batch))} | ${cell(at('node-wasm', r.net, r.batch))} | ${times(r.wasmOverTfjs)} | ${percent(r.wasmOverNative)} |`);
  }
  const mt = all.filter((s) => s.engine === 'page-wasm-mt' || s.engine === 'node-native-mt');
  if (mt.length > 0) {
    const n = [...new Set(mt.map((s) => s.threads))].join('/');
    lines.push(
      '',
      `| training, img/s, ${n} threads | batch | fitlab wasm, Chromium worker | fitlab native, Node | wasm / native | wasm / TF.js CPU | wasm ${n} threads / 1 thread |`,
      '|---|---:|---:|---:|---:|---:|---:|',
    );
    for (const r of rs) {
      if (!at('page-wasm-mt', r.net, r.batch) && !at('node-native-mt', r.net, r.batch)) continue;
      lines.push(`| ${NET_LABEL[r.net]} | ${r.batch} | ${cell(at('page-wasm-mt', r.net, r.batch))} | ${cell(at('node-native-mt', r.net, r.batch))} | ${percent(r.wasmMtOverNativeMt)} | ${times(r.wasmMtOverTfjs)} | ${times(r.wasmThreadSpeedup)} |`);
    }
  }
  return lines.join('\n');
}
