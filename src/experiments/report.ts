/** An experiment's report.html: the setting, the table, the conclusions, the charts, each run. */
import { relative } from 'node:path';
import { STYLE } from '../diagnose/report.js';
import { esc } from '../diagnose/svg.js';

/** A chart of the page: `name` is its file stem (name.svg, name.png beside report.html). */
export interface Chart {
  name: string;
  title: string;
  svg: string;
}

/** A section an experiment adds after the charts (its own table or figure), as HTML. */
export interface Section {
  title: string;
  html: string;
}

export interface ExperimentPage {
  title: string;
  setting: string;
  table: { header: string[]; rows: string[][] };
  conclusions: string[];
  charts: Chart[];
  sections: Section[];
  notes: string[];
  runs: { label: string; seed: number; dir: string }[];
  /** the experiment directory (run links are relative to it) */
  base: string;
}

export function htmlTable(header: string[], rows: string[][]): string {
  return `<table><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map((v) => `<td>${esc(v)}</td>`).join('')}</tr>`).join('')}</table>`;
}

export function renderExperiment(p: ExperimentPage): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(p.title)} — fitlab experiment</title><style>${STYLE}</style></head>
<body>
<h1>${esc(p.title)}</h1>
<div class="meta">${esc(p.setting)}</div>
<h2>Results</h2>
${htmlTable(p.table.header, p.table.rows)}
${p.conclusions.length ? `<ul>${p.conclusions.map((c) => `<li>${esc(c)}</li>`).join('')}</ul>` : ''}
${p.charts.length ? `<h2>Charts</h2><div class="charts">${p.charts.map((c) => c.svg).join('\n')}</div>` : ''}
${p.sections.map((s) => `<h2>${esc(s.title)}</h2>\n${s.html}`).join('\n')}
${p.notes.length ? `<h2>Notes</h2><ul>${p.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}
${p.runs.length ? `<h2>Runs</h2><ul>${p.runs.map((r) => {
    const rel = relative(p.base, r.dir).split('\\').join('/');
    return `<li>${esc(r.label)} (seed ${r.seed}): <a href="${esc(rel)}/report.html">${esc(rel)}</a></li>`;
  }).join('')}</ul>` : ''}
<p class="meta">Written by fitlab. Epochs are counted from 1; ± is one standard deviation over the repeats.</p>
</body></html>
`;
}
