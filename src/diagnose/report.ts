/**
 * report.html: one self-contained page (inline SVG and CSS, no network) with the regime, the
 * numbers, the early-stopping counterfactual, the advice with its evidence, the learning curves
 * and the weight analytics. Also the multi-run comparison page.
 */
import type { EpochLog } from '../train/history.js';
import type { Diagnosis } from './diagnose.js';
import { accuracyChart, compareChart, distanceChart, gapChart, histogramsChart, lossChart } from './plots.js';
import { esc } from './svg.js';
import { REGIME_LABEL } from './text.js';
import type { WeightEpoch } from './weights.js';
import { pct } from '../util/format.js';

const num = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toPrecision(4));

const REGIME_COLOR: Record<Diagnosis['regime'], string> = {
  overfitting: '#d62728', 'partial-overfitting': '#ff7f0e', underfitting: '#8c564b', healthy: '#2ca02c', 'not-converged': '#1f77b4', diverged: '#7f0000', 'no-validation': '#7f7f7f', noisy: '#bcbd22',
};

export const STYLE = `
body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;margin:24px auto;max-width:1000px;color:#222;line-height:1.45}
h1{font-size:22px;margin-bottom:4px} h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
.meta{color:#666;font-size:13px} .badge{display:inline-block;color:#fff;padding:4px 12px;border-radius:4px;font-weight:bold;letter-spacing:.5px}
table{border-collapse:collapse;font-size:13px;margin:8px 0} td,th{border:1px solid #ddd;padding:4px 10px;text-align:right} th{background:#f5f5f5}
td:first-child,th:first-child{text-align:left} .charts svg{display:block;width:100%;height:auto;margin:10px 0}
.advice li{margin:6px 0} .evidence{color:#555;font-size:13px}
`;

export interface ReportInput {
  title: string;
  subtitle?: string;
  history: EpochLog[];
  diagnosis: Diagnosis;
  weights?: WeightEpoch[];
  test?: { loss: number; accuracy: number } | null;
  /** extra facts shown in a table at the end (model, dataset, optimizer, …) */
  facts?: [string, string][];
  smoothing?: number;
}

function numbersTable(d: Diagnosis, test: ReportInput['test']): string {
  const rows: [string, string, string][] = [
    ['training loss', num(d.final.loss), num(d.best.loss)],
    ['training accuracy', pct(d.final.accuracy), pct(d.best.accuracy)],
    ['validation loss', num(d.final.valLoss), num(d.best.valLoss)],
    ['validation accuracy', pct(d.final.valAccuracy), pct(d.best.valAccuracy)],
    ['accuracy gap (train − val)', pct(d.gaps.final.accuracy), pct(d.gaps.best.accuracy)],
    ['loss gap (val − train)', num(d.gaps.final.loss), num(d.gaps.best.loss)],
  ];
  let html = `<table><tr><th></th><th>final (epoch ${d.epochs})</th><th>best (epoch ${d.bestEpoch})</th></tr>`;
  for (const [k, a, b] of rows) html += `<tr><td>${k}</td><td>${a}</td><td>${b}</td></tr>`;
  html += '</table>';
  const facts: [string, string][] = [];
  if (d.onset && d.valLossRise) {
    facts.push(['onset of overfitting', `epoch ${d.onset.epoch} (${d.onset.confidence} confidence; rise ${Number.isFinite(d.onset.riseSigmas) ? `${d.onset.riseSigmas.toFixed(1)}×` : 'far above'} the noise)`]);
    facts.push(['validation loss rise from its minimum', `${(100 * d.valLossRise.relative).toFixed(0)}% (${d.valLossRise.epochsAfterOnset} epochs trained after the onset)`]);
  }
  facts.push(['training still improving at the end', d.converged ? 'no' : `yes (${(100 * -d.trainTrend.slope).toFixed(1)}% per epoch)`]);
  if (d.bestEpochByAccuracy !== null) facts.push(['best epoch by validation accuracy', `epoch ${d.bestEpochByAccuracy}`]);
  if (test) facts.push(['test set', `loss ${num(test.loss)}, accuracy ${pct(test.accuracy)}`]);
  if (d.divergence) facts.push(['divergence', d.divergence.reason]);
  html += '<table>' + facts.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('') + '</table>';
  return html;
}

function counterfactualTable(d: Diagnosis): string {
  if (!d.counterfactuals.length) return '<p>No validation curve: no early-stopping counterfactual.</p>';
  let html = '<table><tr><th>EarlyStopping patience</th><th>stops at epoch</th><th>restores epoch</th><th>val loss there</th><th>val accuracy there</th><th>vs the best epoch</th><th>epochs saved</th></tr>';
  for (const cf of d.counterfactuals) {
    html += `<tr><td>${cf.patience}${cf.own ? ' (this run)' : ''}</td><td>${cf.stopEpoch === null ? 'never' : cf.stopEpoch}</td><td>${cf.restoreEpoch}</td><td>${num(cf.valLoss)}</td><td>${pct(cf.valAccuracy)}</td><td>${cf.vsBest && cf.restoreEpoch !== cf.vsBest.epoch ? (cf.vsBest.valAccuracy !== null ? `${(100 * cf.vsBest.valAccuracy).toFixed(1)} points` : `val loss +${num(cf.vsBest.valLoss)}`) : 'is the best'}</td><td>${cf.epochsSaved}</td></tr>`;
  }
  return html + '</table>';
}

/** Charts drawn as wide as the page's text column (1000 px less the margins), not at 720 px. */
const PAGE_CHART = { width: 960, height: 400 };

export function renderReport(r: ReportInput): string {
  const d = r.diagnosis;
  const size = PAGE_CHART;
  const charts = [lossChart(r.history, d, { smoothing: r.smoothing, ...size }), accuracyChart(r.history, d, { smoothing: r.smoothing, ...size }), gapChart(r.history, d, size)];
  const weightCharts = r.weights?.length ? [distanceChart(r.weights, size), ...(r.weights.some((w) => w.histogram) ? [histogramsChart(r.weights, size)] : [])] : [];
  const dead = r.weights?.[r.weights.length - 1]?.deadRelu ?? [];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(r.title)} — fitlab report</title><style>${STYLE}</style></head>
<body>
<h1>${esc(r.title)}</h1>
${r.subtitle ? `<div class="meta">${esc(r.subtitle)}</div>` : ''}
<p><span class="badge" style="background:${REGIME_COLOR[d.regime]}">${REGIME_LABEL[d.regime]}</span></p>
<p>${esc(d.summary)}</p>
<h2>Numbers</h2>
${numbersTable(d, r.test)}
<h2>Learning curves</h2>
<div class="charts">${charts.join('\n')}</div>
<h2>Early stopping: what it would have done</h2>
${counterfactualTable(d)}
<h2>What to try</h2>
<ol class="advice">${d.advice.map((a) => `<li><b>${esc(a.action)}</b><br><span class="evidence">because ${esc(a.evidence)}</span></li>`).join('')}</ol>
${weightCharts.length ? `<h2>Weights</h2><div class="charts">${weightCharts.join('\n')}</div>` : ''}
${dead.length ? `<table><tr><th>layer</th><th>dead ReLU units (last epoch, one validation batch)</th></tr>${dead.map((x) => `<tr><td>${esc(x.layer)}</td><td>${pct(x.fraction)}</td></tr>`).join('')}</table>` : ''}
${r.facts?.length ? `<h2>Run</h2><table>${r.facts.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('')}</table>` : ''}
<p class="meta">Written by fitlab. Epochs are counted from 1 on this page.</p>
</body></html>
`;
}

export interface CompareRow {
  label: string;
  history: EpochLog[];
  diagnosis: Diagnosis;
  test?: { loss: number; accuracy: number } | null;
}

export function compareTable(rows: CompareRow[]): { header: string[]; cells: string[][] } {
  const header = ['run', 'regime', 'epochs', 'final train acc', 'final val acc', 'best val acc', 'gap', 'onset', 'best epoch', 'test acc'];
  const cells = rows.map((r) => {
    const d = r.diagnosis;
    return [
      r.label, d.regime, String(d.epochs), pct(d.final.accuracy), pct(d.final.valAccuracy), pct(d.best.valAccuracy),
      pct(d.gaps.final.accuracy), d.onsetEpoch === null ? '—' : String(d.onsetEpoch), String(d.bestEpoch), pct(r.test?.accuracy),
    ];
  });
  return { header, cells };
}

export function renderCompare(title: string, rows: CompareRow[]): string {
  const runs = rows.map((r) => ({ label: r.label, history: r.history }));
  const { header, cells } = compareTable(rows);
  const table = `<table><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${cells.map((c) => `<tr>${c.map((v) => `<td>${esc(v)}</td>`).join('')}</tr>`).join('')}</table>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)} — fitlab</title><style>${STYLE}</style></head>
<body>
<h1>${esc(title)}</h1>
${table}
<div class="charts">${compareChart(runs, 'val_loss', 'Validation loss (dashed: training)', PAGE_CHART)}
${compareChart(runs, 'val_accuracy', 'Validation accuracy (dashed: training)', PAGE_CHART)}</div>
<h2>Each run</h2>
${rows.map((r) => `<p><b>${esc(r.label)}</b>: ${esc(r.diagnosis.summary)}</p>`).join('\n')}
</body></html>
`;
}
