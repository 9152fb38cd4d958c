/** A diagnosis as terminal text: the verdict, the key numbers, counterfactuals and advice. */
import type { EpochLog } from '../train/history.js';
import { asciiChart } from './ascii.js';
import type { Diagnosis } from './diagnose.js';
import { pct } from '../util/format.js';

const num = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toPrecision(3));

export const REGIME_LABEL: Record<Diagnosis['regime'], string> = {
  overfitting: 'OVERFITTING',
  'partial-overfitting': 'PARTIAL OVERFITTING',
  underfitting: 'UNDERFITTING',
  healthy: 'HEALTHY',
  'not-converged': 'NOT CONVERGED',
  diverged: 'DIVERGED',
  'no-validation': 'NO VALIDATION DATA',
  noisy: 'TOO NOISY TO READ',
};

/** A counterfactual's cost against the run's best epoch, when it keeps another one. */
function vsBest(cf: Diagnosis['counterfactuals'][number]): string {
  const v = cf.vsBest;
  if (!v || cf.restoreEpoch === v.epoch) return ', the best epoch';
  if (v.valAccuracy !== null) return `, ${v.valAccuracy <= 0 ? '' : '+'}${(100 * v.valAccuracy).toFixed(1)} points vs best epoch ${v.epoch}`;
  return `, val_loss +${num(v.valLoss)} vs best epoch ${v.epoch}`;
}

export function diagnosisText(d: Diagnosis, options: { advice?: number; counterfactuals?: boolean } = {}): string {
  const lines: string[] = [];
  lines.push(`Diagnosis: ${REGIME_LABEL[d.regime]}`);
  lines.push(`  ${d.summary}`);
  const b = d.best;
  lines.push(`  best epoch ${d.bestEpoch} of ${d.epochs}${d.lateBest ? ' (late)' : ''}: ${d.hasValidation ? `val_loss ${num(b.valLoss)}, val_accuracy ${pct(b.valAccuracy)}` : `loss ${num(b.loss)}`}` +
    (d.gaps.final.accuracy !== null ? `; final gap ${(100 * d.gaps.final.accuracy).toFixed(1)} points (best epoch: ${(100 * (d.gaps.best.accuracy ?? 0)).toFixed(1)})` : ''));
  if (d.onset && d.valLossRise) {
    lines.push(`  onset of overfitting: epoch ${d.onset.epoch} (${d.onset.confidence} confidence: rise ${d.onset.riseSigmas === Infinity ? 'far above' : `${d.onset.riseSigmas.toFixed(1)}×`} the noise); ${d.valLossRise.epochsAfterOnset} epochs trained after it; validation loss +${(100 * d.valLossRise.relative).toFixed(0)}% from its minimum`);
  } else if (d.onsetEpoch !== null) {
    const by = d.onsetBy === 'accuracy-gap' ? 'the accuracy gap opened for good' : 'validation loss has not improved since';
    lines.push(`  onset of overfitting: epoch ${d.onsetEpoch} (${by})`);
  }
  if (d.baseline) lines.push(`  accuracy baseline: ${d.baseline.text}`);
  if (d.confidence.level !== 'high' || d.confidence.reasons.length) {
    lines.push(`  confidence: ${d.confidence.level}${d.confidence.reasons.length ? ` (${d.confidence.reasons.join('; ')})` : ''}`);
  }
  if (options.counterfactuals !== false && d.counterfactuals.length) {
    const parts = d.counterfactuals.map((cf) => cf.stopEpoch === null
      ? `patience ${cf.patience}${cf.own ? ' (this run)' : ''}: never stops`
      : `patience ${cf.patience}${cf.own ? ' (this run)' : ''}: stop at ${cf.stopEpoch}, keep ${cf.restoreEpoch} (val_acc ${pct(cf.valAccuracy)}${vsBest(cf)}), ${cf.epochsSaved} epochs saved`);
    lines.push(`  early stopping: ${parts.join('; ')}`);
  }
  const n = options.advice ?? 3;
  if (d.advice.length && n > 0) {
    lines.push('  try:');
    d.advice.slice(0, n).forEach((a, i) => lines.push(`   ${i + 1}. ${a.action} — ${a.evidence}`));
  }
  return lines.join('\n');
}

/** Loss curves with the best epoch and onset marked. */
export function curvesChart(history: EpochLog[], d: Diagnosis, title?: string): string {
  // the chart's markers take 0-based indices into the history; the labels say 1-based epochs
  const markers = [{ epoch: d.bestEpoch - 1, mark: '┊', label: `best epoch ${d.bestEpoch}` }];
  if (d.onsetEpoch !== null && d.onsetEpoch !== d.bestEpoch) markers.push({ epoch: d.onsetEpoch - 1, mark: '╎', label: `onset ${d.onsetEpoch}` });
  const series = [{ label: 'training loss', values: history.map((e) => e.loss), mark: '·' }];
  if (d.hasValidation) series.push({ label: 'validation loss', values: history.map((e) => e.val_loss ?? Number.NaN), mark: '•' });
  return asciiChart(series, { title, markers });
}
