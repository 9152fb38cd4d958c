/**
 * What the benchmark page's workers are asked and answer (bench/browser.ts → index.html →
 * fitlab-worker.ts / tfjs-worker.ts, and back): one job = the training throughput of one network.
 */
import type { BenchNet } from './net.js';

export interface PageJob {
  engine: 'fitlab' | 'tfjs';
  net: BenchNet;
  /** the batch of the measured steps */
  batch: number;
  /** fitlab: measureThroughput's `steps`; TF.js: measured steps */
  steps: number;
  /** TF.js: the batch of its one warm-up step (the first job of a network only) */
  warmBatch?: number;
  /** fitlab: kernel threads (above 1: fitlab-threads.wasm through createWasmBackendAuto) */
  threads?: number;
}

export interface PageResult {
  /** batch · 1000 / median step time */
  imagesPerSec: number;
  stepMs: number[];
  /** trainable parameters of the network the worker built */
  params: number;
  /** fitlab: the mean loss of the first step (checked against the wasm backend in Node) */
  firstLoss?: number;
  /** what ran: 'wasm wasm-simd128', 'tfjs cpu' */
  backend: string;
  /** kernel threads the backend ran with (createWasmBackendAuto may fall back to 1) */
  threads: number;
  /** fitlab with threads: createWasmBackendAuto's reason for its choice */
  reason?: string;
}

export type WorkerReply = { id: number; ok: true; result: PageResult } | { id: number; ok: false; error: string };
