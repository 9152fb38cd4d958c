/**
 * `fitlab bench`: training and inference throughput of the lecture CNN (batch 200 and 64) and
 * of the 784-512-10 MLP (batch 128), GEMM GFLOP/s at 256–2048, the FMA peak of the cores used,
 * and the memory of a lecture-CNN training step — side by side with the identical networks in
 * PyTorch (bench/pytorch_bench.py, same thread count), with our/PyTorch ratios.
 * Medians over repeated steps: these machines are noisy.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { Backend } from '../backend/backend.js';
import { getBackend } from '../backend/index.js';
import type { NativeBackend } from '../backend/native/index.js';
import { LossHead } from '../nn/losses.js';
import type { Model } from '../nn/model.js';
import { presetSpec } from '../nn/presets.js';
import { modelFromSpec } from '../nn/spec.js';
import { createOptimizer } from '../optim/optimizers.js';
import { RandomStream } from '../tensor/prng.js';
import { trainBatch } from '../train/step.js';
import { type AugmentSpec, augmentBatch, parseAugment } from '../data/augment.js';
import { fillBatch } from '../data/dataset.js';
import { packageRoot } from '../util/paths.js';

export interface ThroughputResult {
  model: string;
  batchSize: number;
  threads: number;
  trainImagesPerSec: number;
  inferImagesPerSec: number;
  /** with --augment: images/s of batch assembly + augmentation (uint8 → float, warp) */
  augmentImagesPerSec?: number;
  augmentPreset?: string;
  pytorch?: { trainImagesPerSec: number; inferImagesPerSec: number; memoryFormat?: string };
  trainRatio?: number;
  inferRatio?: number;
}

export interface BenchReport {
  cpu: string;
  backend: string;
  isa: string;
  threads: number;
  peakGflops: number | null;
  results: ThroughputResult[];
  /** percentOfPeak is capped at 100: a GEMM above the probed peak means the probe was disturbed */
  gemm: { n: number; gflops: number; percentOfPeak: number | null; pytorchGflops?: number; openblasGflops?: number }[];
  /** the same GEMM sizes through OpenBLAS (NumPy on Debian's libopenblas0-pthread), same threads */
  openblas: { library: string; config: string; threads: number } | null;
  openblasError?: string;
  memory: { fitlabStepPeakMB: number; pytorchStepPeakMB?: number } | null;
  pytorch: { version: string; threads: number; blas: string } | null;
  pytorchError?: string;
}

export interface BenchOptions {
  /** which throughput benchmarks: 'lecture-cnn', 'mlp' (default both) */
  models?: string[];
  /** measured steps per benchmark (median) */
  steps?: number;
  gemm?: boolean;
  memory?: boolean;
  pytorch?: boolean;
  /** python with torch (and NumPy on OpenBLAS, for the GEMM column) */
  python?: string;
  /** time the GEMM sizes in OpenBLAS too (default true; needs NumPy on OpenBLAS) */
  openblas?: boolean;
  /** also measure augmentation throughput with this preset (reported beside training) */
  augment?: string;
  log?: (line: string) => void;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function buildNet(name: 'lecture-cnn' | 'paper-mlp', batch: number, backend: Backend): { model: Model; x: Float32Array; y: Int32Array } {
  const spec = name === 'lecture-cnn' ? presetSpec('lecture-cnn') : presetSpec('paper-mlp', { input: [28, 28, 1] });
  const model = modelFromSpec(spec);
  model.build({ batchSize: batch, seed: 1, backend });
  const per = model.inputShape.reduce((a, b) => a * b, 1);
  const x = backend.alloc(batch * per);
  new RandomStream(7).fillUniform(x, 0, 1);
  const y = Int32Array.from({ length: batch }, (_, i) => i % 10);
  return { model, x, y };
}

/** Median images/s of training steps and of inference passes. */
export function measureThroughput(name: 'lecture-cnn' | 'paper-mlp', batch: number, steps: number, backend: Backend = getBackend()): { train: number; infer: number } {
  const { model, x, y } = buildNet(name, batch, backend);
  const loss = new LossHead(model, { name: 'sparse_categorical_crossentropy', fromLogits: false });
  const opt = createOptimizer(name === 'lecture-cnn' ? 'adamw' : 'adam');
  const params = model.trainableParams();
  const warm = name === 'paper-mlp' ? 20 : 3;
  const reps = name === 'paper-mlp' ? steps * 8 : steps;
  for (let i = 0; i < warm; i++) trainBatch(model, loss, opt, x, y, null, params);
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    trainBatch(model, loss, opt, x, y, null, params);
    t.push(performance.now() - t0);
  }
  for (let i = 0; i < warm; i++) model.forward(x, { training: false });
  const f: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    model.forward(x, { training: false });
    f.push(performance.now() - t0);
  }
  return { train: (batch * 1000) / median(t), infer: (batch * 1000) / median(f) };
}

/**
 * Images/s of assembling and augmenting CIFAR-sized batches (uint8 pixels → scaled floats →
 * the preset's random transforms through the warp kernel), as the training pipeline does.
 */
export function measureAugment(preset: string, batch: number, steps: number, backend: Backend = getBackend()): number {
  const spec = parseAugment(preset) as AugmentSpec;
  const [h, w, c] = [32, 32, 3];
  const per = h * w * c;
  const n = 2000;
  const x = new Uint8Array(n * per);
  for (let i = 0; i < x.length; i++) x[i] = (i * 2654435761) >>> 24;
  const split = { x, y: new Int32Array(n) };
  const raw = backend.alloc(batch * per);
  const out = backend.alloc(batch * per);
  const matrices = new Float64Array(batch * 6);
  const positions = Int32Array.from({ length: batch }, (_, i) => i);
  const order = Int32Array.from({ length: batch }, (_, i) => (i * 7) % n);
  const run = (epoch: number): void => {
    fillBatch(raw, split, order, 0, batch, per, 1 / 255);
    augmentBatch(backend, out, raw, batch, h, w, c, spec, 1, epoch, positions, matrices);
  };
  run(0);
  const t: number[] = [];
  for (let i = 0; i < steps * 4; i++) {
    const t0 = performance.now();
    run(i + 1);
    t.push(performance.now() - t0);
  }
  return (batch * 1000) / median(t);
}

export function measureGemm(n: number, backend: Backend = getBackend()): number {
  const a = backend.alloc(n * n).fill(0.5);
  const b = backend.alloc(n * n).fill(0.25);
  const c = backend.alloc(n * n);
  backend.gemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n);
  const t: number[] = [];
  for (let i = 0; i < (n >= 2048 ? 3 : 7); i++) {
    const t0 = performance.now();
    backend.gemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n);
    t.push(performance.now() - t0);
  }
  return (2 * n ** 3) / median(t) / 1e6;
}

function status(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** Run in a child process: MB above baseline of building the lecture CNN + 3 training steps. */
export function memoryChild(batch: number): { peakRssMB: number; baselineRssMB: number; stepPeakMB: number } {
  writeFileSync('/proc/self/clear_refs', '5');
  const before = status('VmRSS');
  const backend = getBackend();
  const { model, x, y } = buildNet('lecture-cnn', batch, backend);
  const loss = new LossHead(model, { name: 'sparse_categorical_crossentropy', fromLogits: false });
  const opt = createOptimizer('adamw');
  for (let i = 0; i < 3; i++) trainBatch(model, loss, opt, x, y, null);
  const peak = status('VmHWM');
  return { peakRssMB: peak, baselineRssMB: before, stepPeakMB: peak - before };
}

interface PytorchOut {
  torch: string;
  threads: number;
  blas: string;
  results: { model: string; batchSize: number; trainImagesPerSec: number; inferImagesPerSec: number; memoryFormat?: string }[];
  gemm: { n: number; gflops: number }[];
  memory: { stepPeakMB: number };
}

interface OpenblasOut {
  library: string;
  config: string;
  threads: number;
  gemm: { n: number; gflops: number }[];
}

/** GEMM GFLOP/s of OpenBLAS at the same sizes and threads, via bench/openblas_gemm.py. */
function runOpenblas(python: string, threads: number, sizes: number[]): { out?: OpenblasOut; error?: string } {
  const script = join(packageRoot(), 'bench', 'openblas_gemm.py');
  if (!existsSync(python)) return { error: `${python} not found (apt-get install -y python3-numpy libopenblas0-pthread)` };
  const r = spawnSync(python, [script, '--threads', String(threads), '--sizes', sizes.join(',')], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) return { error: (r.stderr || r.error?.message || 'failed').trim().split('\n').slice(-1)[0] };
  return { out: JSON.parse(r.stdout) as OpenblasOut };
}

/**
 * The FMA probe: a warm-up of about 0.2 s (10⁸ iterations of 12 chains) brings the core to its
 * full clock, then the best of 30 short probes (5·10⁵ iterations, about 2 ms on one AVX2 core) is
 * the peak. Short probes fit between the scheduler's time slices: on this project's 2-vCPU
 * machine under a load average of 10, probes of 3·10⁷ iterations read 44–53 GFLOP/s with
 * AVX-512 and 5·10⁵ ones 179–191 (AVX2: 33–62 against 112), the chip's figure.
 */
const PEAK_WARMUP = 1e8;
const PEAK_ITERATIONS = 5e5;
const PEAK_PROBES = 30;

/** GFLOP/s as a percentage of the probed peak, never above 100 (a faster GEMM means a disturbed probe). */
export function percentOfPeak(gflops: number, peak: number | null): number | null {
  return peak ? Math.min(100, (100 * gflops) / peak) : null;
}

function runPytorch(python: string, threads: number, steps: number): { out?: PytorchOut; error?: string } {
  const script = join(packageRoot(), 'bench', 'pytorch_bench.py');
  if (!existsSync(python)) return { error: `${python} not found (apt-get install -y python3-torch)` };
  const r = spawnSync(python, [script, '--threads', String(threads), '--steps', String(steps)], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) return { error: `PyTorch benchmark failed: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' ')}` };
  return { out: JSON.parse(r.stdout) as PytorchOut };
}

export function runBench(options: BenchOptions = {}): BenchReport {
  const log = options.log ?? (() => undefined);
  const backend = getBackend();
  const steps = options.steps ?? 8;
  const threads = backend.threads;
  const models = options.models ?? ['lecture-cnn', 'mlp'];
  const native = backend.name === 'native' ? (backend as NativeBackend) : null;
  if (native) native.peakGflops(PEAK_WARMUP); // warm-up: wake the pool, raise the clock
  const peak = native ? Math.max(...Array.from({ length: PEAK_PROBES }, () => native.peakGflops(PEAK_ITERATIONS))) : null;
  if (peak) log(`FMA peak: ${peak.toFixed(0)} GFLOP/s on ${threads} thread(s) (${backend.isa})`);
  const results: ThroughputResult[] = [];
  const plan: ['lecture-cnn' | 'paper-mlp', number, string][] = [];
  if (models.includes('lecture-cnn')) plan.push(['lecture-cnn', 200, 'lecture-cnn'], ['lecture-cnn', 64, 'lecture-cnn']);
  if (models.includes('mlp')) plan.push(['paper-mlp', 128, 'mlp-784-512-10']);
  for (const [net, batch, label] of plan) {
    const r = measureThroughput(net, batch, steps, backend);
    log(`${label} batch ${batch}: train ${r.train.toFixed(0)} img/s, inference ${r.infer.toFixed(0)} img/s`);
    const entry: ThroughputResult = { model: label, batchSize: batch, threads, trainImagesPerSec: r.train, inferImagesPerSec: r.infer };
    if (options.augment && net === 'lecture-cnn') {
      entry.augmentImagesPerSec = measureAugment(options.augment, batch, steps, backend);
      entry.augmentPreset = options.augment;
      log(`  augmentation (${options.augment}): ${entry.augmentImagesPerSec.toFixed(0)} img/s = ${(entry.augmentImagesPerSec / r.train).toFixed(1)}× training`);
    }
    results.push(entry);
  }
  const gemm: BenchReport['gemm'] = options.gemm === false ? [] : [256, 512, 1024, 2048].map((n) => {
    const g = measureGemm(n, backend);
    log(`gemm ${n}: ${g.toFixed(1)} GFLOP/s`);
    return { n, gflops: g, percentOfPeak: percentOfPeak(g, peak) };
  });
  if (peak && gemm.some((g) => g.gflops > peak)) {
    log(`a GEMM ran faster than the probed FMA peak (${peak.toFixed(0)} GFLOP/s): the probe was disturbed (a busy machine?); percentages are capped at 100`);
  }
  let openblas: BenchReport['openblas'] = null;
  let openblasError: string | undefined;
  if (gemm.length > 0 && options.openblas !== false) {
    const { out, error } = runOpenblas(options.python ?? '/usr/bin/python3', threads, gemm.map((g) => g.n));
    if (out) {
      openblas = { library: out.library, config: out.config, threads: out.threads };
      for (const g of gemm) {
        const o = out.gemm.find((q) => q.n === g.n);
        if (o) {
          g.openblasGflops = o.gflops;
          log(`gemm ${g.n} in OpenBLAS: ${o.gflops.toFixed(1)} GFLOP/s`);
        }
      }
    } else {
      openblasError = error;
      log(`OpenBLAS comparison skipped: ${error}`);
    }
  }
  let memory: BenchReport['memory'] = null;
  if (options.memory !== false && models.includes('lecture-cnn') && existsSync('/proc/self/clear_refs')) {
    const r = spawnSync(process.execPath, [join(packageRoot(), 'bin', 'fitlab.js'), 'bench', '--memory-child', '200', '--threads', String(threads)], { encoding: 'utf8' });
    if (r.status === 0) {
      memory = { fitlabStepPeakMB: (JSON.parse(r.stdout) as { stepPeakMB: number }).stepPeakMB };
      log(`lecture-cnn training step at batch 200: ${memory.fitlabStepPeakMB.toFixed(0)} MB above baseline`);
    }
  }
  let pytorch: BenchReport['pytorch'] = null;
  let pytorchError: string | undefined;
  if (options.pytorch !== false) {
    log('running the same networks in PyTorch…');
    const { out, error } = runPytorch(options.python ?? '/usr/bin/python3', threads, steps);
    if (out) {
      pytorch = { version: out.torch, threads: out.threads, blas: out.blas };
      for (const r of results) {
        const p = out.results.find((q) => q.model === r.model && q.batchSize === r.batchSize);
        if (p) {
          r.pytorch = { trainImagesPerSec: p.trainImagesPerSec, inferImagesPerSec: p.inferImagesPerSec, memoryFormat: p.memoryFormat };
          r.trainRatio = r.trainImagesPerSec / p.trainImagesPerSec;
          r.inferRatio = r.inferImagesPerSec / p.inferImagesPerSec;
        }
      }
      for (const g of gemm) {
        const p = out.gemm.find((q) => q.n === g.n);
        if (p) g.pytorchGflops = p.gflops;
      }
      if (memory) memory.pytorchStepPeakMB = out.memory.stepPeakMB;
    } else {
      pytorchError = error;
      log(`PyTorch comparison skipped: ${error}`);
    }
  }
  return {
    cpu: cpus()[0]?.model ?? 'unknown', backend: backend.name, isa: backend.isa, threads, peakGflops: peak,
    results, gemm, memory, pytorch, ...(pytorchError ? { pytorchError } : {}),
    openblas, ...(openblasError ? { openblasError } : {}),
  };
}

const fmtRatio = (r: number | undefined): string => (r === undefined ? '—' : `${r.toFixed(2)}×`);

/** The benchmark as a Markdown table (for the terminal and the README). */
export function benchTable(rep: BenchReport): string {
  const lines: string[] = [];
  lines.push(`Machine: ${rep.cpu}, ${rep.isa}, ${rep.threads} thread(s); FMA peak ${rep.peakGflops?.toFixed(0) ?? '—'} GFLOP/s` +
    (rep.pytorch ? `; PyTorch ${rep.pytorch.version} with ${rep.pytorch.threads} thread(s)` : ''));
  lines.push('');
  lines.push('| benchmark | fitlab | PyTorch | fitlab / PyTorch |');
  lines.push('|---|---:|---:|---:|');
  for (const r of rep.results) {
    lines.push(`| ${r.model} train, batch ${r.batchSize} | ${r.trainImagesPerSec.toFixed(0)} img/s | ${r.pytorch ? r.pytorch.trainImagesPerSec.toFixed(0) + ' img/s' : '—'} | ${fmtRatio(r.trainRatio)} |`);
    if (r.augmentImagesPerSec !== undefined) lines.push(`| augmentation (${r.augmentPreset}), batch ${r.batchSize} | ${r.augmentImagesPerSec.toFixed(0)} img/s (${(r.augmentImagesPerSec / r.trainImagesPerSec).toFixed(1)}× training) | — | — |`);
    lines.push(`| ${r.model} inference, batch ${r.batchSize} | ${r.inferImagesPerSec.toFixed(0)} img/s | ${r.pytorch ? r.pytorch.inferImagesPerSec.toFixed(0) + ' img/s' : '—'} | ${fmtRatio(r.inferRatio)} |`);
  }
  if (rep.memory) {
    const p = rep.memory.pytorchStepPeakMB;
    lines.push(`| lecture-cnn training step memory, batch 200 | ${rep.memory.fitlabStepPeakMB.toFixed(0)} MB | ${p !== undefined ? p.toFixed(0) + ' MB' : '—'} | ${p ? fmtRatio(rep.memory.fitlabStepPeakMB / p) : '—'} |`);
  }
  if (rep.gemm.length > 0) lines.push('', ...gemmTable(rep));
  return lines.join('\n');
}

/** GEMM beside OpenBLAS (the BLAS to beat on a CPU) and PyTorch (Debian's, generic BLAS). */
function gemmTable(rep: BenchReport): string[] {
  const gf = (x: number | undefined): string => (x === undefined ? '—' : `${x.toFixed(0)} GFLOP/s`);
  const lines = [
    `fp32 GEMM, ${rep.threads} thread(s)` + (rep.openblas ? `; OpenBLAS: ${rep.openblas.config || rep.openblas.library}` : rep.openblasError ? `; OpenBLAS: ${rep.openblasError}` : ''),
    '',
    '| size | fitlab | % of FMA peak | OpenBLAS | fitlab / OpenBLAS | PyTorch |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const g of rep.gemm) {
    const pct = g.percentOfPeak !== null ? `${g.percentOfPeak.toFixed(0)}%` : '—';
    lines.push(`| ${g.n}³ | ${gf(g.gflops)} | ${pct} | ${gf(g.openblasGflops)} | ${g.openblasGflops ? fmtRatio(g.gflops / g.openblasGflops) : '—'} | ${gf(g.pytorchGflops)} |`);
  }
  return lines;
}
