/** `fitlab diagnose`: read a run (or a Keras history) and say whether and how it overfits. */
import { Command, InvalidArgumentError } from 'commander';
import { diagnose } from '../diagnose/diagnose.js';
import { type LoadedHistory, loadHistory } from '../diagnose/read.js';
import { curvesChart, diagnosisText } from '../diagnose/text.js';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { readWeightsLog, writeRunReport } from '../diagnose/run-report.js';
import { ArgumentError } from '../errors.js';
import { RUN_FILES, readRunConfig } from '../io/run-dir.js';
import { completeRun, runFacts } from '../run/train-run.js';
import { sweepAllStaleTemps, writeDirAtomic } from '../io/atomic.js';
import { checkDirTarget } from '../io/owned.js';
import { runInUse } from '../io/run-lock.js';
import { intOption, makeOutput } from './common.js';
import { openInBrowser, shownPath } from './open-report.js';

export function registerDiagnose(program: Command): void {
  program
    .command('diagnose <run>')
    .description('diagnose a run directory or a training log: Keras history JSON or CSVLogger file (any extension), TF.js History JSON, PyTorch Lightning metrics.csv, fastai history.csv, Hugging Face trainer_state.json, JSON lines, or a hand-made CSV/TSV')
    .option('--classes <n>', 'number of classes (when the history does not say)', intOption('--classes', 2))
    .option('--baseline <acc>', 'the accuracy to beat, e.g. the majority-class rate 0.8 (or 80%), for imbalanced data', baselineOption)
    .option('--segment <n>', 'which run to diagnose when the log holds several appended ones (1-based; default: the last)', intOption('--segment', 1))
    .option('--loss <col>', 'the column holding the training loss (when its name is not recognized)')
    .option('--val-loss <col>', 'the column holding the validation loss')
    .option('--acc <col>', 'the column holding the training accuracy')
    .option('--val-acc <col>', 'the column holding the validation accuracy')
    .option('--json', 'machine-readable diagnosis (regime, onsetEpoch, bestEpoch, gaps, counterfactuals, advice)')
    .option('--no-chart', 'no terminal chart')
    .option('--write', 'also write the charts (SVG and PNG) and report.html: into the run directory, or into --out')
    .option('--out <dir>', 'where --write puts them: a new or empty folder (default: the run directory; needed for a history file)')
    .option('--force', 'replace a report fitlab wrote at --out before (never anything else)')
    .option('--open', 'open report.html in the default browser (writing it first when the run has none)')
    .action(async (target: string, flags: DiagnoseFlags) => {
      const out = makeOutput(flags);
      if (flags.out && !flags.write) throw new ArgumentError('--out goes with --write', 'add --write to write the charts and report');
      const loaded = loadHistory(target, flags.classes, {
        segment: flags.segment,
        columns: { loss: flags.loss, valLoss: flags.valLoss, acc: flags.acc, valAcc: flags.valAcc },
      });
      if (flags.baseline !== undefined) loaded.context.baseline = flags.baseline;
      const d = diagnose(loaded.history, loaded.context);
      // temporaries that a killed writer left in the run directory go first (not while a
      // trainer holds the run: one on another host has PIDs this host cannot check)
      if (loaded.runDir && !runInUse(loaded.runDir)) sweepAllStaleTemps(loaded.runDir);
      if (flags.open && !flags.write) {
        if (!loaded.runDir) throw new ArgumentError(`--open: ${target} is a history file, so there is no report.html to open`, 'write one with --write --out <dir> --open');
        // a run from before reports existed, or one killed before writing it: write it now
        if (!existsSync(join(loaded.runDir, 'report.html'))) flags.write = true;
      }
      let reportDir = loaded.runDir;
      if (flags.write) {
        const intoRun = loaded.runDir !== null && (!flags.out || resolve(flags.out) === resolve(loaded.runDir));
        const dir = resolve(intoRun ? (loaded.runDir as string) : (flags.out ?? ''));
        if (!intoRun && !flags.out) {
          throw new ArgumentError(`--write: ${target} is a history file, not a run directory`, 'say where the report goes with --out <dir>');
        }
        // a folder the user named is written whole, and only where fitlab may (src/io/owned.ts)
        const dest = { kind: 'report', force: flags.force, label: '--out' };
        if (!intoRun) checkDirTarget(dir, dest);
        // a run killed while writing its end files (summary.json, diagnosis.json, report) gets them now
        if (intoRun && (await completeRun(dir, { log: (l) => out.info(l) }))) out.info(`completed the end files of ${dir}`);
        const input = { ...reportInput(loaded.runDir, target), history: loaded.history, diagnosis: d };
        let files: string[];
        if (intoRun) {
          files = writeRunReport(dir, input);
        } else {
          let names: string[] = [];
          writeDirAtomic(dir, (tmp) => {
            names = writeRunReport(tmp, input).map((f) => basename(f));
          }, dest);
          files = names.map((n) => join(dir, n));
        }
        const shown = (f: string): string => {
          const rel = relative(process.cwd(), f);
          return rel && !rel.startsWith('..') ? rel : f;
        };
        out.info(`wrote ${files.length} files into ${shown(dir)}: ${files.map((f) => basename(f)).join(', ')}`);
        reportDir = dir;
      }
      const report = reportDir && existsSync(join(reportDir, 'report.html')) ? join(reportDir, 'report.html') : null;
      if (flags.open && report) {
        const failed = await openInBrowser(report);
        out.info(failed ?? `opened ${shownPath(report)} in the browser`);
      }
      if (out.jsonMode) {
        const segments = loaded.segments.lengths.length > 1 ? { segment: loaded.segments.diagnosed, segments: loaded.segments.lengths } : {};
        out.json({ source: loaded.source, kind: loaded.kind, columns: loaded.columns, ...segments, readNotes: loaded.notes, ...d });
        return;
      }
      for (const line of readLines(loaded)) out.info(line);
      if (flags.chart) out.info(curvesChart(loaded.history, d, `${loaded.source} (${loaded.history.length} epochs)`));
      out.info(diagnosisText(d, { advice: 5 }));
      if (report && !flags.open) out.info(`report: ${shownPath(report)}   (charts and tables; fitlab diagnose ${shownPath(target)} --open shows it)`);
      else if (!report && loaded.runDir) out.info(`no report.html in ${shownPath(loaded.runDir)} yet: fitlab diagnose ${shownPath(target)} --write (or --open) writes it`);
    });
}

interface DiagnoseFlags {
  classes?: number;
  baseline?: number;
  segment?: number;
  loss?: string;
  valLoss?: string;
  acc?: string;
  valAcc?: string;
  json?: boolean;
  chart: boolean;
  write?: boolean;
  out?: string;
  force?: boolean;
  open?: boolean;
}

/** --baseline: an accuracy in (0, 1), or a percentage written with % ("80%"). */
function baselineOption(value: string): number {
  const text = value.trim();
  const percent = text.endsWith('%');
  const n = Number(percent ? text.slice(0, -1) : text) / (percent ? 100 : 1);
  if (!text || !Number.isFinite(n) || n <= 0 || n >= 1) {
    throw new InvalidArgumentError(`--baseline must be an accuracy in (0, 1) such as 0.8, or a percentage such as 80%; received ${JSON.stringify(value)}`);
  }
  return n;
}

/** What the reader decided, for the text output: which column is what, and its notes. */
function readLines(loaded: LoadedHistory): string[] {
  const entries = Object.entries(loaded.columns);
  if (!entries.length) return [];
  const cols = entries.map(([role, name]) => `${role} ← "${name}"`).join(', ');
  const epochs = loaded.kind === 'hf-trainer-state' ? '; points from log_history' : loaded.epochColumn ? `; epochs from "${loaded.epochColumn}"` : '; epochs in row order';
  const ignored = loaded.ignored.length ? `; not read: ${loaded.ignored.join(', ')}` : '';
  return [`read as ${loaded.kind}: ${cols}${epochs}${ignored}`, ...loaded.notes.map((n) => `  note: ${n}`)];
}

/** Title, facts, test result and weight analytics of a run directory (what train wrote). */
function reportInput(runDir: string | null, target: string): { title: string; subtitle: string; facts?: [string, string][]; test?: { loss: number; accuracy: number } | null; weights?: ReturnType<typeof readWeightsLog> } {
  if (!runDir) return { title: basename(target), subtitle: resolve(target) };
  const summaryFile = join(runDir, 'summary.json');
  const summary = existsSync(summaryFile) ? (JSON.parse(readFileSync(summaryFile, 'utf8')) as { model?: string; dataset?: string; test?: { loss: number; accuracy: number } | null }) : {};
  let facts: [string, string][] | undefined;
  if (existsSync(join(runDir, RUN_FILES.config))) {
    try {
      facts = runFacts(readRunConfig(runDir));
    } catch {
      // a config from another version: the report goes without the facts table
    }
  }
  const title = summary.model && summary.dataset ? `${summary.model} on ${summary.dataset}` : basename(resolve(runDir));
  return { title, subtitle: resolve(runDir), facts, test: summary.test ?? null, weights: readWeightsLog(runDir) };
}
