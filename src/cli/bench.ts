/** `fitlab bench`: throughput and GEMM speed, side by side with PyTorch (and GEMM with OpenBLAS). */
import { Command } from 'commander';
import { ArgumentError } from '../errors.js';
import { type BenchReport, benchTable, memoryChild, runBench } from '../bench/bench.js';
import { intOption, makeOutput, setupBackend } from './common.js';

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('training/inference throughput (lecture CNN, MLP), GEMM GFLOP/s and step memory, side by side with PyTorch')
    .option('--model <name>', 'only this benchmark: lecture-cnn or mlp')
    .option('--threads <n>', 'kernel threads (PyTorch gets the same)', intOption('--threads'))
    .option('--steps <n>', 'measured steps per benchmark (median)', intOption('--steps'), 8)
    .option('--no-gemm', 'skip the GEMM sizes')
    .option('--no-pytorch', 'skip the PyTorch side (bench/pytorch_bench.py)')
    .option('--no-openblas', 'skip the GEMM sizes in OpenBLAS (bench/openblas_gemm.py: NumPy on libopenblas0-pthread)')
    .option('--python <path>', 'python with torch (and NumPy on OpenBLAS) installed', '/usr/bin/python3')
    .option('--augment <preset>', 'also measure augmentation throughput with this preset (e.g. cifar10)')
    .option('--memory-child <batch>', 'internal: measure one training step\'s memory and print JSON', intOption('--memory-child'))
    .option('--json', 'machine-readable output')
    .action((flags: { model?: string; threads?: number; steps: number; gemm: boolean; pytorch: boolean; openblas: boolean; python: string; memoryChild?: number; augment?: string; json?: boolean }) => {
      setupBackend({ threads: flags.threads });
      if (flags.memoryChild) {
        process.stdout.write(`${JSON.stringify(memoryChild(flags.memoryChild))}\n`);
        return;
      }
      if (flags.model !== undefined && !['lecture-cnn', 'mlp'].includes(flags.model)) {
        throw new ArgumentError(`--model must be lecture-cnn or mlp; received ${JSON.stringify(flags.model)}`);
      }
      const out = makeOutput(flags);
      const report: BenchReport = runBench({
        models: flags.model ? [flags.model] : undefined, steps: flags.steps, gemm: flags.gemm && !flags.model,
        pytorch: flags.pytorch, openblas: flags.openblas, python: flags.python, augment: flags.augment, log: (l) => out.info(l),
      });
      if (out.jsonMode) {
        // a single benchmark prints its flat record (trainImagesPerSec, inferImagesPerSec, threads, batchSize, model)
        out.json(flags.model ? { ...report.results[0], peakGflops: report.peakGflops, all: report } : report);
      } else {
        out.info('');
        out.info(benchTable(report));
      }
    });
}
