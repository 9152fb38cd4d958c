/** `fitlab diagnose`: read a run (or a Keras history) and say whether and how it overfits. */
import { Command } from 'commander';
import { diagnose } from '../diagnose/diagnose.js';
import { loadHistory } from '../diagnose/read.js';
import { curvesChart, diagnosisText } from '../diagnose/text.js';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { readWeightsLog, writeRunReport } from '../diagnose/run-report.js';
import { ArgumentError } from '../errors.js';
import { RUN_FILES, readRunConfig } from '../io/run-dir.js';
import { type ResolvedConfig, runFacts } from '../run/train-run.js';
import { intOption, makeOutput } from './common.js';

export function registerDiagnose(program: Command): void {
  program
    .command('diagnose <run>')
    .description('diagnose a run directory, a history.jsonl, a Keras history .json or a CSVLogger .csv')
    .option('--classes <n>', 'number of classes (when the history does not say)', intOption('--classes', 2))
    .option('--json', 'machine-readable diagnosis (regime, onsetEpoch, bestEpoch, gaps, counterfactuals, advice)')
    .option('--no-chart', 'no terminal chart')
    .option('--write', 'also write the charts (SVG and PNG) and report.html: into the run directory, or into --out')
    .option('--out <dir>', 'where --write puts them (default: the run directory; needed for a history file)')
    .action((target: string, flags: { classes?: number; json?: boolean; chart: boolean; write?: boolean; out?: string }) => {
      const out = makeOutput(flags);
      if (flags.out && !flags.write) throw new ArgumentError('--out goes with --write', 'add --write to write the charts and report');
      const loaded = loadHistory(target, flags.classes);
      const d = diagnose(loaded.history, loaded.context);
      if (flags.write) {
        const dir = resolve(flags.out ?? loaded.runDir ?? '');
        if (!flags.out && !loaded.runDir) {
          throw new ArgumentError(`--write: ${target} is a history file, not a run directory`, 'say where the report goes with --out <dir>');
        }
        if (existsSync(dir) && !statSync(dir).isDirectory()) throw new ArgumentError(`--out ${JSON.stringify(flags.out)} is a file, not a directory`);
        mkdirSync(dir, { recursive: true });
        const files = writeRunReport(dir, { ...reportInput(loaded.runDir, target), history: loaded.history, diagnosis: d });
        const shown = (f: string): string => {
          const rel = relative(process.cwd(), f);
          return rel && !rel.startsWith('..') ? rel : f;
        };
        out.info(`wrote ${files.length} files into ${shown(dir)}: ${files.map((f) => basename(f)).join(', ')}`);
      }
      if (out.jsonMode) {
        out.json({ source: loaded.source, kind: loaded.kind, ...d });
        return;
      }
      if (flags.chart) out.info(curvesChart(loaded.history, d, `${loaded.source} (${loaded.history.length} epochs)`));
      out.info(diagnosisText(d, { advice: 5 }));
    });
}

/** Title, facts, test result and weight analytics of a run directory (what train wrote). */
function reportInput(runDir: string | null, target: string): { title: string; subtitle: string; facts?: [string, string][]; test?: { loss: number; accuracy: number } | null; weights?: ReturnType<typeof readWeightsLog> } {
  if (!runDir) return { title: basename(target), subtitle: resolve(target) };
  const summaryFile = join(runDir, 'summary.json');
  const summary = existsSync(summaryFile) ? (JSON.parse(readFileSync(summaryFile, 'utf8')) as { model?: string; dataset?: string; test?: { loss: number; accuracy: number } | null }) : {};
  let facts: [string, string][] | undefined;
  if (existsSync(join(runDir, RUN_FILES.config))) {
    try {
      facts = runFacts(readRunConfig(runDir) as unknown as ResolvedConfig);
    } catch {
      // a config from another version: the report goes without the facts table
    }
  }
  const title = summary.model && summary.dataset ? `${summary.model} on ${summary.dataset}` : basename(resolve(runDir));
  return { title, subtitle: resolve(runDir), facts, test: summary.test ?? null, weights: readWeightsLog(runDir) };
}
