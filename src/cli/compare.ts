/** `fitlab compare`: several runs on the same axes, with a table of their key numbers. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { Command } from 'commander';
import { diagnose } from '../diagnose/diagnose.js';
import { compareChart } from '../diagnose/plots.js';
import { svgToPng } from '../diagnose/png.js';
import { loadHistory } from '../diagnose/read.js';
import { type CompareRow, compareTable, renderCompare } from '../diagnose/report.js';
import { ArgumentError } from '../errors.js';
import { writeDirAtomic } from '../io/atomic.js';
import { checkDirTarget } from '../io/owned.js';
import { textTable } from '../util/table.js';
import { intOption, makeOutput } from './common.js';

/** A run's label: its summary's model name, else the directory name without the timestamp. */
function labelOf(path: string, loadedRunDir: string | null): string {
  if (loadedRunDir) {
    const summary = join(loadedRunDir, 'summary.json');
    const name = basename(resolve(loadedRunDir)).replace(/^\d{8}-\d{6}-/, '');
    if (existsSync(summary)) {
      const s = JSON.parse(readFileSync(summary, 'utf8')) as { model?: string };
      if (s.model && !name.includes(s.model)) return `${s.model} (${name})`;
    }
    return name;
  }
  return basename(path);
}

export function loadCompareRows(paths: string[], labels: string[] | null, classes?: number): CompareRow[] {
  return paths.map((path, k) => {
    const loaded = loadHistory(path, classes);
    let test: { loss: number; accuracy: number } | null = null;
    if (loaded.runDir && existsSync(join(loaded.runDir, 'summary.json'))) {
      test = (JSON.parse(readFileSync(join(loaded.runDir, 'summary.json'), 'utf8')) as { test?: { loss: number; accuracy: number } | null }).test ?? null;
    }
    return { label: labels?.[k] ?? labelOf(path, loaded.runDir), history: loaded.history, diagnosis: diagnose(loaded.history, loaded.context), test };
  });
}

/**
 * compare.html plus the two charts as SVG and PNG, written as one folder (atomically, with the
 * ownership marker); returns the files written. `dir` is the user's --out: a new or empty folder,
 * or with `force` a comparison fitlab wrote there before (src/io/owned.ts).
 */
export function writeCompare(dir: string, title: string, rows: CompareRow[], force = false): string[] {
  const names: string[] = [];
  writeDirAtomic(dir, (tmp) => {
    for (const name of fillCompare(tmp, title, rows)) names.push(name);
  }, { kind: 'comparison', force, label: '--out' });
  return names.map((n) => join(dir, n));
}

function fillCompare(dir: string, title: string, rows: CompareRow[]): string[] {
  const files: string[] = [];
  const runs = rows.map((r) => ({ label: r.label, history: r.history }));
  for (const [name, svg] of [
    ['compare-val-loss', compareChart(runs, 'val_loss', 'Validation loss (dashed: training)')],
    ['compare-val-accuracy', compareChart(runs, 'val_accuracy', 'Validation accuracy (dashed: training)')],
  ] as const) {
    writeFileSync(join(dir, `${name}.svg`), svg);
    writeFileSync(join(dir, `${name}.png`), svgToPng(svg));
    files.push(`${name}.svg`, `${name}.png`);
  }
  writeFileSync(join(dir, 'compare.html'), renderCompare(title, rows));
  files.push('compare.html');
  return files;
}

export function registerCompare(program: Command): void {
  program
    .command('compare <runs...>')
    .description('compare runs (run directories or history files): a table of their key numbers; --out adds charts on shared axes and compare.html')
    .option('--labels <list>', 'comma-separated names for the runs, in order')
    .option('--out <dir>', 'write compare.html and the charts (SVG and PNG) into this new or empty folder')
    .option('--force', 'replace a comparison fitlab wrote at --out before (never anything else)')
    .option('--title <text>', 'title of the comparison', 'Comparison')
    .option('--classes <n>', 'number of classes (for history files that do not say)', intOption('--classes', 2))
    .option('--json', 'machine-readable output')
    .action((paths: string[], flags: { labels?: string; out?: string; force?: boolean; title: string; classes?: number; json?: boolean }) => {
      const out = makeOutput(flags);
      if (paths.length < 2) throw new ArgumentError(`compare needs at least two runs; got ${paths.length}`);
      const labels = flags.labels ? flags.labels.split(',').map((s) => s.trim()) : null;
      if (labels && labels.length !== paths.length) {
        throw new ArgumentError(`--labels has ${labels.length} names for ${paths.length} runs`, 'give one name per run, comma-separated');
      }
      // refuse a target that is not fitlab's before reading the runs
      if (flags.out) checkDirTarget(resolve(flags.out), { kind: 'comparison', force: flags.force, label: '--out' });
      const rows = loadCompareRows(paths, labels, flags.classes);
      const files = flags.out ? writeCompare(resolve(flags.out), flags.title, rows, flags.force) : [];
      if (out.jsonMode) {
        out.json({
          runs: rows.map((r, k) => ({ path: paths[k], label: r.label, regime: r.diagnosis.regime, onsetEpoch: r.diagnosis.onsetEpoch, bestEpoch: r.diagnosis.bestEpoch, final: r.diagnosis.final, best: r.diagnosis.best, gaps: r.diagnosis.gaps, test: r.test })),
          files,
        });
        return;
      }
      const { header, cells } = compareTable(rows);
      out.info(textTable(header, cells));
      if (files.length) out.info(`\nwrote ${join(resolve(flags.out ?? '.'), 'compare.html')} and ${files.length - 1} chart files`);
    });
}
