/**
 * `fitlab demo`: overfitting seen in two short runs, with nothing to download. A 3×256 MLP learns
 * a small noisy two-spirals set (10% of labels flipped): unregularized, it memorizes the noise
 * (training accuracy climbs toward 100% while validation loss turns up); the same network with
 * L2, dropout and early stopping stays healthy. Both runs get a run directory and the terminal
 * tells each curve's story.
 */
import { Command } from 'commander';
import { relative } from 'node:path';
import { diagnose } from '../diagnose/diagnose.js';
import { contextFromRunConfig } from '../diagnose/context.js';
import { curvesChart, diagnosisText } from '../diagnose/text.js';
import { readRunConfig } from '../io/run-dir.js';
import type { ModelSpec } from '../nn/spec.js';
import { type TrainRunResult, trainRun } from '../run/train-run.js';
import { intOption, makeOutput, pct, setupBackend } from './common.js';

export function demoSpec(regularized: boolean): ModelSpec {
  const hidden = [256, 256, 256].flatMap((units) => [
    { type: 'dense', units, activation: 'relu', ...(regularized ? { kernelRegularizer: { l2: 1e-3 } } : {}) },
    ...(regularized ? [{ type: 'dropout', rate: 0.3 }] : []),
  ]);
  return { name: regularized ? 'regularized-mlp' : 'memorizer-mlp', input: [2], layers: [...hidden, { type: 'dense', units: 2, activation: 'softmax' }] };
}

export const DEMO_DATA = { n: 1200, noise: 0.1, labelNoise: 0.1, seed: 7 };

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('watch a network memorize noisy data, then the same network regularized (built in, nothing to download; ~100 s on a busy 2-vCPU machine)')
    .option('--out <dir>', 'parent folder of the two run directories', 'runs')
    .option('--epochs <n>', 'epochs of the unregularized run', intOption('--epochs'), 400)
    .option('--seed <n>', 'seed', intOption('--seed', 0), 1)
    .option('--threads <n>', 'kernel threads', intOption('--threads'))
    .option('--json', 'machine-readable summary of both runs')
    .action(async (flags: { out: string; epochs: number; seed: number; threads?: number; json?: boolean }) => {
      const out = makeOutput(flags);
      setupBackend({ threads: flags.threads });
      out.info('fitlab demo: two spirals, 1,200 points, 10% of the labels flipped (built in, nothing to download).');
      out.info('A 3×256 MLP sees 300 training points and is checked on 300 held-out ones, twice:');
      out.info('  1. as is — it has far more capacity than the data needs');
      out.info('  2. with L2 (1e-3), dropout (0.3) and early stopping (patience 20)');
      const results: { name: string; result: TrainRunResult; regime: string; onsetEpoch: number | null }[] = [];
      for (const regularized of [false, true]) {
        const spec = demoSpec(regularized);
        out.info('');
        out.info(`── ${regularized ? '2. regularized' : '1. unregularized'} ${'─'.repeat(40)}`);
        const t0 = performance.now();
        const result = await trainRun({
          model: spec.name as string, modelSpec: spec, dataset: 'spirals', synthetic: DEMO_DATA, val: '0.5',
          epochs: flags.epochs, batchSize: 32, optimizer: 'adam', lr: 3e-3, seed: flags.seed,
          earlyStopping: regularized ? 20 : null, out: flags.out, name: `demo-${spec.name as string}`,
        });
        const d = diagnose(result.history, contextFromRunConfig(readRunConfig(result.runDir)));
        const f = result.final;
        out.info(`${result.epochsRun} epochs in ${((performance.now() - t0) / 1000).toFixed(1)}s${result.stopReason ? ` (${result.stopReason})` : ''}`);
        out.info(curvesChart(result.history, d));
        // the last epoch's numbers, said as such: the diagnosis below averages the last epochs
        out.info(`last epoch (${result.epochsRun}): training accuracy ${pct(f?.accuracy)}, validation accuracy ${pct(f?.val_accuracy)}; held-out test accuracy ${pct(result.test?.accuracy)}`);
        out.info(diagnosisText(d, { advice: regularized ? 1 : 3 }));
        const near = relative(process.cwd(), result.runDir);
        out.info(`run directory: ${near && !near.startsWith('..') ? near : result.runDir}`);
        results.push({ name: spec.name as string, result, regime: d.regime, onsetEpoch: d.onsetEpoch });
      }
      const [a, b] = results;
      out.info('');
      out.info(`The story: unregularized, the network ${a.regime === 'overfitting' ? `overfits from epoch ${a.onsetEpoch ?? 1}` : `ends ${a.regime}`} (test accuracy ${pct(a.result.test?.accuracy)}); ` +
        `regularized, it is ${b.regime} (test accuracy ${pct(b.result.test?.accuracy)}).`);
      out.info('Next: fitlab diagnose <run directory>   ·   fitlab train --model paper-mlp --dataset fashion-mnist --epochs 3');
      if (out.jsonMode) {
        out.json(results.map((r) => ({
          name: r.name, runDir: r.result.runDir, regime: r.regime, onsetEpoch: r.onsetEpoch, epochsRun: r.result.epochsRun,
          final: r.result.final, test: r.result.test,
        })));
      }
    });
}
