/** `fitlab diagnose`: read a run (or a Keras history) and say whether and how it overfits. */
import { Command } from 'commander';
import { diagnose } from '../diagnose/diagnose.js';
import { loadHistory } from '../diagnose/read.js';
import { curvesChart, diagnosisText } from '../diagnose/text.js';
import { intOption, makeOutput } from './common.js';

export function registerDiagnose(program: Command): void {
  program
    .command('diagnose <run>')
    .description('diagnose a run directory, a history.jsonl, a Keras history .json or a CSVLogger .csv')
    .option('--classes <n>', 'number of classes (when the history does not say)', intOption('--classes', 2))
    .option('--json', 'machine-readable diagnosis (regime, onsetEpoch, bestEpoch, gaps, counterfactuals, advice)')
    .option('--no-chart', 'no terminal chart')
    .action((target: string, flags: { classes?: number; json?: boolean; chart: boolean }) => {
      const out = makeOutput(flags);
      const loaded = loadHistory(target, flags.classes);
      const d = diagnose(loaded.history, loaded.context);
      if (out.jsonMode) {
        out.json({ source: loaded.source, kind: loaded.kind, ...d });
        return;
      }
      if (flags.chart) out.info(curvesChart(loaded.history, d, `${loaded.source} (${loaded.history.length} epochs)`));
      out.info(diagnosisText(d, { advice: 5 }));
    });
}
