/**
 * The diagnosis' pictures and pages. Every SVG chart (loss, accuracy, gap, distance from init,
 * weight histograms, several runs compared) is well-formed XML — checked by a small tag-balance
 * parser, no DOM — and holds its series: one path per curve with a point per epoch, in the right
 * colours, the lowest validation point drawn at the best epoch, the best-epoch and onset markers
 * and the legend. PNGs (resvg, bundled DejaVu font) decode with pngjs to the expected size, are
 * not blank, and show the series colours, the title and the tick labels. report.html and
 * compare.html are self-contained (no scripts, no links, nothing fetched) and quote the diagnosis.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diagnose } from '../../src/diagnose/diagnose.js';
import { MAX_HISTOGRAMS, TIME_RAMP, accuracyChart, compareChart, distanceChart, emaSmooth, gapChart, histogramsChart, lossChart, rebin } from '../../src/diagnose/plots.js';
import { svgToPng } from '../../src/diagnose/png.js';
import { renderCompare, renderReport } from '../../src/diagnose/report.js';
import { writeRunReport } from '../../src/diagnose/run-report.js';
import { niceTicks } from '../../src/diagnose/svg.js';
import { curvesChart } from '../../src/diagnose/text.js';
import type { WeightEpoch } from '../../src/diagnose/weights.js';
import { OVERFIT_MIN, col, healthy, overfitting } from './synth.js';

const TRAIN = '#1f77b4';
const VAL = '#d62728';

/** Tag-balance check of an XML document: quoted attributes, entities only, every tag closed. */
function wellFormed(xml: string): { root: string; tags: number } {
  const withoutEntities = xml.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);/gi, '');
  expect(withoutEntities, 'a bare & in the document').not.toContain('&');
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<>]*")*)\s*(\/?)>/g;
  const stack: string[] = [];
  let root = '';
  let last = 0;
  let tags = 0;
  for (let m = tag.exec(xml); m; m = tag.exec(xml)) {
    const between = xml.slice(last, m.index);
    expect(between, `stray markup before <${m[1]}${m[2]}> at ${m.index}`).not.toMatch(/[<>]/);
    last = tag.lastIndex;
    tags++;
    const [, close, name, , selfClose] = m;
    if (close) {
      expect(stack.pop(), `</${name}> closes the wrong element`).toBe(name);
    } else {
      if (!root) root = name;
      else expect(stack.length, `<${name}> outside the root element`).toBeGreaterThan(0);
      if (!selfClose) stack.push(name);
    }
  }
  expect(xml.slice(last).trim(), 'markup left after the last tag').toBe('');
  expect(stack, 'unclosed elements').toEqual([]);
  return { root, tags };
}

/** The points of every <path> with this stroke colour and no dash, as [x, y] lists per subpath. */
function pathsOf(svg: string, color: string): [number, number][][] {
  const out: [number, number][][] = [];
  for (const m of svg.matchAll(/<path d="([^"]*)" fill="none" stroke="([^"]*)"([^>]*)\/>/g)) {
    if (m[2] !== color || m[3].includes('dasharray')) continue;
    for (const sub of m[1].split('M').filter((x) => x.trim())) {
      out.push(sub.split('L').map((p) => p.trim().split(/\s+/).map(Number) as [number, number]));
    }
  }
  return out;
}

function decode(buf: Buffer): PNG {
  return PNG.sync.read(buf);
}

/** Pixels within `tol` of a colour, optionally inside a box. */
function countColor(png: PNG, hex: string, tol = 30, box?: { x0: number; y0: number; x1: number; y1: number }): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const { x0, y0, x1, y1 } = box ?? { x0: 0, y0: 0, x1: png.width, y1: png.height };
  let n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const k = 4 * (y * png.width + x);
      if (Math.abs(png.data[k] - r) <= tol && Math.abs(png.data[k + 1] - g) <= tol && Math.abs(png.data[k + 2] - b) <= tol) n++;
    }
  }
  return n;
}

const weights: WeightEpoch[] = Array.from({ length: 6 }, (_, e) => ({
  epoch: e, norm: 10 + e, distance: 2 * Math.sqrt(e),
  layers: [{ name: 'dense', norm: 8 + e, distance: 1.5 * Math.sqrt(e) }, { name: 'dense_1', norm: 2 + e / 2, distance: Math.sqrt(e) }],
  ...(e === 0 || e === 1 || e === 3 || e === 5 ? { histogram: { edges: Array.from({ length: 11 }, (_, i) => -1 + i / 5), counts: [0, 1, 4, 10, 30, 30, 10, 4, 1, 0].map((c) => c * (1 + e)) } } : {}),
  ...(e === 5 ? { deadRelu: [{ layer: 'dense', fraction: 0.125 }] } : {}),
}));

let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'fitlab-charts-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('SVG charts', () => {
  const h = overfitting();
  const d = diagnose(h, { classes: 10 });

  it('the well-formedness check itself rejects broken markup', () => {
    for (const bad of ['<svg><g></svg>', '<svg><text>a & b</text></svg>', '<svg><rect x=1/></svg>', '<svg></svg><svg></svg>', '<svg><text>a < b</text></svg>']) {
      expect(() => wellFormed(bad), bad).toThrow();
    }
    expect(wellFormed('<svg a="1"><g><text>x &amp; y</text></g><rect/></svg>')).toEqual({ root: 'svg', tags: 7 });
  });

  it('every chart is well-formed XML with an <svg> root', () => {
    const charts = [lossChart(h, d), accuracyChart(h, d), gapChart(h, d), lossChart(h, d, { smoothing: 0.6 }), distanceChart(weights), histogramsChart(weights),
      compareChart([{ label: 'a <b> & "c"', history: h }, { label: 'healthy', history: healthy() }], 'val_loss')];
    for (const svg of charts) expect(wellFormed(svg).root).toBe('svg');
  });

  it('the loss chart: a training and a validation curve with a point per epoch, the lowest validation point at the best epoch', () => {
    const svg = lossChart(h, d);
    const train = pathsOf(svg, TRAIN);
    const val = pathsOf(svg, VAL);
    expect(train).toHaveLength(1);
    expect(val).toHaveLength(1);
    expect(train[0]).toHaveLength(40);
    expect(val[0]).toHaveLength(40);
    // x increases with the epoch; screen y grows downwards, so the lowest loss is the largest y
    for (let i = 1; i < 40; i++) expect(val[0][i][0]).toBeGreaterThan(val[0][i - 1][0]);
    const lowest = val[0].reduce((best, p, i) => (p[1] > val[0][best][1] ? i : best), 0);
    expect(lowest).toBe(OVERFIT_MIN);
    // training loss only falls: its points only go down the screen
    for (let i = 1; i < 40; i++) expect(train[0][i][1]).toBeGreaterThanOrEqual(train[0][i - 1][1]);
    // markers, shading, legend, labels
    expect(svg).toContain(`>best epoch ${OVERFIT_MIN + 1}</text>`);
    expect(svg).toContain(`>onset ${d.onsetEpoch as number}</text>`);
    expect(svg).toContain('>overfitting</text>');
    // the shaded span starts exactly at the onset marker (both count epochs from 1)
    const shadeX = /<rect x="([\d.]+)"[^>]*opacity="0\.10"/.exec(svg)?.[1];
    const onsetX = new RegExp(`<line x1="([\\d.]+)"[^>]*stroke-dasharray="2 3"`).exec(svg)?.[1];
    expect(shadeX).toBeDefined();
    expect(shadeX).toBe(onsetX);
    expect(svg).toMatch(/<text[^>]*>training loss<\/text>/);
    expect(svg).toMatch(/<text[^>]*>validation loss<\/text>/);
    expect(svg).toMatch(/<text[^>]*font-weight="bold"[^>]*>Loss<\/text>/);
    expect(svg).toMatch(/>epoch<\/text>/);
    expect((svg.match(/<circle /g) ?? []).length).toBe(80); // dots: 40 epochs × 2 curves
  });

  it('the best-epoch marker is drawn at the best epoch\'s x', () => {
    const svg = lossChart(h, d);
    const val = pathsOf(svg, VAL)[0];
    const marker = /<line x1="([\d.]+)" x2="[\d.]+" y1="[\d.]+" y2="[\d.]+" stroke="#2ca02c"/.exec(svg);
    expect(Number(marker?.[1])).toBeCloseTo(val[OVERFIT_MIN][0], 1);
  });

  it('a NaN epoch breaks the line in two instead of drawing through it', () => {
    const gappy = h.map((e, i) => (i === 20 ? { ...e, val_loss: Number.NaN } : e));
    const val = pathsOf(lossChart(gappy, null), VAL);
    expect(val.map((s) => s.length)).toEqual([20, 19]);
  });

  it('smoothing draws the raw curve dotted under an EMA curve (TensorBoard style, bias-corrected)', () => {
    expect(emaSmooth([1, 1, 1], 0.9)).toEqual([1, 1, 1]);
    // first value is the value itself; then (0.5·0.5·1 + 0.5·3) / 0.75
    const e = emaSmooth([1, 3], 0.5);
    expect(e[0]).toBeCloseTo(1, 12);
    expect(e[1]).toBeCloseTo((0.25 + 1.5) / 0.75, 12);
    const svg = lossChart(h, d, { smoothing: 0.6 });
    expect(svg).toContain('>validation loss (smoothed)</text>');
    expect(svg).toContain('>validation loss (raw)</text>');
  });

  it('the accuracy chart has percent ticks; the gap chart plots train − val accuracy', () => {
    expect(accuracyChart(h, d)).toMatch(/>\d+%<\/text>/);
    const gap = gapChart(h, d);
    const pts = pathsOf(gap, '#9467bd')[0];
    expect(pts).toHaveLength(40);
    const ta = col(h, 'accuracy');
    const va = col(h, 'val_accuracy');
    // the widest gap is drawn highest (smallest screen y)
    const widest = ta.map((a, i) => a - va[i]).reduce((b, g, i, all) => (g > all[b] ? i : b), 0);
    expect(pts.reduce((b, p, i) => (p[1] < pts[b][1] ? i : b), 0)).toBe(widest);
  });

  it('weight histograms use the width of the plot even when the weights span less than 1', () => {
    // bins over [−0.2, 0.2]: the first and last bin centres sit at the plot's left and right edges (66 and 702)
    const narrow: WeightEpoch[] = [0, 3].map((epoch) => ({
      epoch, norm: 1, distance: 0, layers: [],
      histogram: { edges: Array.from({ length: 9 }, (_, i) => -0.2 + i * 0.05), counts: [1, 2, 5, 9, 9, 5, 2, 1] },
    }));
    const pts = pathsOf(histogramsChart(narrow), TIME_RAMP[0])[0];
    expect(pts).toHaveLength(8);
    expect(pts[0][0]).toBeCloseTo(66, 0);
    expect(pts[7][0]).toBeCloseTo(702, 0);
    // tick labels are round numbers: 0 is "0", not the −1.4e-17 that summing 0.05 steps leaves
    const labels = [...histogramsChart(narrow).matchAll(/<text x="[\d.]+" y="[\d.]+" text-anchor="middle" fill="#444">([^<]*)<\/text>/g)].map((m) => m[1]);
    // (bin centres run from −0.175 to 0.175)
    expect(labels).toEqual(['-0.15', '-0.1', '-0.05', '0', '0.05', '0.1', '0.15']);
    expect(niceTicks(-0.2125, 0.2125, 8)).toEqual([-0.2, -0.15, -0.1, -0.05, 0, 0.05, 0.1, 0.15, 0.2]);
    expect(niceTicks(1, 40, 8)).toEqual([5, 10, 15, 20, 25, 30, 35, 40]);
    // and a single-epoch run still gets a drawable x axis, its one point in the middle of the plot
    // (left margin 66 + half of the 636-pixel plot width)
    expect(pathsOf(lossChart(overfitting().slice(0, 1), null), TRAIN)[0]).toEqual([[384, expect.any(Number) as number]]);
  });

  it('epoch axes have whole-number ticks only, even on a 3-epoch run (no 1.25, 1.5)', () => {
    const xLabels = (svg: string): string[] => [...svg.matchAll(/y="[\d.]+" text-anchor="middle" fill="#444">([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(xLabels(lossChart(overfitting().slice(0, 3), null))).toEqual(['1', '2', '3']);
    expect(xLabels(lossChart(overfitting().slice(0, 2), null))).toEqual(['1', '2']);
    expect(xLabels(gapChart(overfitting().slice(0, 5), null, { width: 960 }))).toEqual(['1', '2', '3', '4', '5']);
  });

  it('weight histograms: at most five snapshots, first and last kept, different ranges put onto one grid without end-bin piles', () => {
    // rebinning keeps every count and spreads a bin by its overlap
    expect(rebin([0, 1, 2], [4, 2], [0, 0.5, 1, 1.5, 2])).toEqual([2, 2, 1, 1]);
    expect(rebin([-1, 1], [10], [-2, -1, 0, 1, 2])).toEqual([0, 5, 5, 0]);
    // ten snapshots whose range doubles each time (each epoch records its own ±max|w|)
    const grow: WeightEpoch[] = Array.from({ length: 10 }, (_, e) => ({
      epoch: e, norm: 1, distance: 0, layers: [],
      histogram: { edges: Array.from({ length: 5 }, (_, i) => (-1 + i / 2) * 2 ** e), counts: [1, 4, 4, 1] },
    }));
    const svg = histogramsChart(grow);
    const labels = [...svg.matchAll(/<text x="[\d.]+" y="([\d.]+)" fill="#222">(epoch \d+)<\/text>/g)].map((m) => m[2]);
    expect(labels).toEqual(['epoch 1', 'epoch 3', 'epoch 6', 'epoch 8', 'epoch 10']);
    expect(MAX_HISTOGRAMS).toBe(5);
    expect(svg).toContain('Weight histograms (5 of 10 snapshots)');
    // the last (widest) snapshot spans the whole grid: its outermost bins hold its outer 10%, not a pile
    const last = pathsOf(svg, TIME_RAMP[4])[0];
    const ys = last.map((p) => p[1]); // SVG y grows downwards: a smaller y is a taller bin
    expect(Math.min(...ys)).toBeLessThan(ys[0]);
    expect(Math.min(...ys)).toBeLessThan(ys[ys.length - 1]);
    expect(ys[0]).toBeCloseTo(ys[ys.length - 1], 6);
  });

  it('labels are escaped', () => {
    const svg = compareChart([{ label: 'a <b> & "c"', history: h }, { label: 'healthy', history: healthy() }], 'val_loss', 'x < y');
    expect(svg).toContain('a &lt;b&gt; &amp; &quot;c&quot;');
    expect(svg).toContain('x &lt; y');
  });

  it('compare: one solid validation curve per run and a dashed training curve per run, shared axes', () => {
    const svg = compareChart([{ label: 'overfit', history: h }, { label: 'healthy', history: healthy() }], 'val_loss');
    expect(pathsOf(svg, '#1f77b4')[0]).toHaveLength(40);
    expect(pathsOf(svg, '#d62728')[0]).toHaveLength(30);
    expect((svg.match(/stroke-dasharray="4 4"/g) ?? []).length).toBe(2);
  });
});

describe('PNG', () => {
  const h = overfitting();
  const d = diagnose(h, { classes: 10 });
  const png = decode(svgToPng(lossChart(h, d)));

  it('decodes to 1.5× the SVG size (720×380 → 1080×570)', () => {
    expect([png.width, png.height]).toEqual([1080, 570]);
  });

  it('is not blank: the two curves, the best-epoch marker, the onset shading in their colours', () => {
    const white = countColor(png, '#ffffff', 3);
    expect(white).toBeLessThan(0.97 * png.width * png.height);
    expect(countColor(png, TRAIN, 30)).toBeGreaterThan(500);
    expect(countColor(png, VAL, 30)).toBeGreaterThan(500);
    expect(countColor(png, '#2ca02c', 30)).toBeGreaterThan(100);
    // the area after the onset is shaded orange at 10%: (255, 246, 239) or so
    expect(countColor(png, '#fff3e7', 6)).toBeGreaterThan(10_000);
  });

  it('has text where the title and the tick labels go (the font loaded)', () => {
    // title: bold #222 in the top 40 px (×1.5); y tick labels: #444 left of the plot (66 px ×1.5)
    expect(countColor(png, '#222222', 40, { x0: 300, y0: 0, x1: 780, y1: 55 })).toBeGreaterThan(100);
    expect(countColor(png, '#444444', 40, { x0: 0, y0: 60, x1: 95, y1: 490 })).toBeGreaterThan(100);
    // nothing drawn in the far top-left corner
    expect(countColor(png, '#ffffff', 3, { x0: 0, y0: 0, x1: 40, y1: 40 })).toBe(1600);
  });
});

describe('report.html and the run report files', () => {
  const h = overfitting();
  const d = diagnose(h, { classes: 10, earlyStoppingPatience: 4 });

  it('writes loss/accuracy/gap/weights/histograms as SVG and PNG, and report.html', () => {
    const files = writeRunReport(tmp, { title: 'crafted <run>', history: h, diagnosis: d, weights, test: { loss: 0.61, accuracy: 0.84 } });
    expect(files.map((f) => basename(f)).sort()).toEqual([
      'accuracy.png', 'accuracy.svg', 'gap.png', 'gap.svg', 'histograms.png', 'histograms.svg', 'loss.png', 'loss.svg', 'report.html', 'weights.png', 'weights.svg',
    ]);
    for (const f of files) expect(existsSync(f)).toBe(true);
    for (const f of files.filter((x) => x.endsWith('.png'))) {
      const p = decode(readFileSync(f));
      expect(p.width).toBeGreaterThan(500);
      expect(countColor(p, '#ffffff', 3)).toBeLessThan(0.98 * p.width * p.height);
    }
  });

  it('report.html is self-contained and quotes the diagnosis', () => {
    const html = renderReport({ title: 'crafted <run>', history: h, diagnosis: d, weights, test: { loss: 0.61, accuracy: 0.84 } });
    expect(html).not.toMatch(/<script|<link|<img|<iframe|url\(|@import/i);
    // the only URL is the SVG namespace
    expect(html.match(/https?:\/\/[^\s"']+/g)?.filter((u) => u !== 'http://www.w3.org/2000/svg') ?? []).toEqual([]);
    expect((html.match(/<svg /g) ?? []).length).toBe(5);
    expect(html).toContain('<title>crafted &lt;run&gt; — fitlab report</title>');
    expect(html).toContain('>OVERFITTING</span>');
    expect(html).toContain(`since epoch ${d.onsetEpoch as number}`);
    // the counterfactual table: patience 4 (this run) stops at 20 (1-based), keeps 16, saves 20
    expect(html).toContain('<tr><td>4 (this run)</td><td>20</td><td>16</td><td>0.5004</td><td>85.1%</td><td>is the best</td><td>20</td></tr>');
    expect(html).toContain('<td>test set</td><td>loss 0.6100, accuracy 84.0%</td>');
    expect(html).toContain('<td>dense</td><td>12.5%</td>');
    for (const a of d.advice) expect(html).toContain(a.evidence.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;'));
  });

  it('compare.html: a row per run with its regime, both charts', () => {
    const rows = [
      { label: 'no regularization', history: h, diagnosis: d, test: { loss: 0.7, accuracy: 0.81 } },
      { label: 'dropout + L2', history: healthy(), diagnosis: diagnose(healthy(), { classes: 10 }), test: null },
    ];
    const html = renderCompare('Ladder', rows);
    expect(html).not.toMatch(/<script|<link|<img/i);
    expect(html).toMatch(/<tr><td>no regularization<\/td><td>overfitting<\/td><td>40<\/td>/);
    expect(html).toMatch(/<tr><td>dropout \+ L2<\/td><td>healthy<\/td><td>30<\/td>/);
    expect((html.match(/<svg /g) ?? []).length).toBe(2);
  });
});

describe('terminal chart', () => {
  it('plots both curves and names the best epoch and the onset', () => {
    const h = overfitting();
    const d = diagnose(h, { classes: 10 });
    const text = curvesChart(h, d, 'crafted');
    const lines = text.split('\n');
    expect(lines[0]).toBe('crafted');
    expect(text).toContain('· training loss');
    expect(text).toContain('• validation loss');
    expect(text).toContain(`┊ best epoch ${OVERFIT_MIN + 1}`);
    expect(text).toContain(`╎ onset ${d.onsetEpoch as number}`);
    expect(lines.filter((l) => l.includes('│'))).toHaveLength(10);
  });
});

describe('a chart with a single x value', () => {
  it('draws the point in the middle of the plot, not on its left edge (one repeat of an experiment)', async () => {
    const { lineChart } = await import('../../src/diagnose/svg.js');
    const svg = lineChart([{ label: 'normal training', values: [33.8], color: TRAIN }], { width: 720, xOf: () => 42, xTicks: [{ value: 42, label: '42' }] });
    const frame = /<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)" height="[\d.]+" fill="none"/.exec(svg);
    expect(frame, 'the plot frame').not.toBeNull();
    const mid = Number(frame![1]) + Number(frame![2]) / 2;
    const [[[x]]] = pathsOf(svg, TRAIN);
    expect(Math.abs(x - mid)).toBeLessThan(1);
  });
});
