/**
 * The pictures and report of a run directory: loss.svg/.png, accuracy.svg/.png, gap.svg and
 * report.html (plus weights.svg when weight analytics were recorded). Written atomically; used
 * at the end of every `fitlab train` and by `fitlab diagnose --write`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FitlabError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { WriteError } from '../io/write-error.js';
import type { EpochLog } from '../train/history.js';
import type { Diagnosis } from './diagnose.js';
import { accuracyChart, distanceChart, gapChart, histogramsChart, lossChart } from './plots.js';
import { svgToPng } from './png.js';
import { renderReport } from './report.js';
import type { WeightEpoch } from './weights.js';

export const WEIGHTS_FILE = 'weights.jsonl';

export function writeWeightsLog(dir: string, log: WeightEpoch[]): void {
  writeFileAtomic(join(dir, WEIGHTS_FILE), log.map((e) => JSON.stringify(e)).join('\n') + (log.length ? '\n' : ''));
}

export function readWeightsLog(dir: string): WeightEpoch[] {
  const file = join(dir, WEIGHTS_FILE);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l, i) => {
    let e: WeightEpoch;
    try {
      e = JSON.parse(l) as WeightEpoch;
    } catch {
      throw new FitlabError(`${file}: line ${i + 1} is not valid JSON`, 'the weight analytics file was damaged or edited; move it aside to diagnose without it');
    }
    // the charts read these fields of every line: a damaged one is refused here, not a TypeError there
    const ok = e !== null && typeof e === 'object' && typeof e.epoch === 'number' &&
      // NaN weights (a diverged run) give NaN distances, which JSON writes as null
      (typeof e.distance === 'number' || e.distance === null) && Array.isArray(e.layers) &&
      e.layers.every((x) => x !== null && typeof x === 'object' && typeof x.name === 'string') &&
      (e.histogram === undefined || (Array.isArray(e.histogram?.edges) && Array.isArray(e.histogram?.counts))) &&
      (e.deadRelu === undefined || (Array.isArray(e.deadRelu) && e.deadRelu.every((x) => typeof x?.layer === 'string' && typeof x.fraction === 'number')));
    if (!ok) throw new FitlabError(`${file}: line ${i + 1} is not a weight record {epoch, distance, layers: [{name, …}]}`, 'the weight analytics file was damaged or edited; move it aside to diagnose without it');
    return e;
  });
}

export interface RunReportInput {
  title: string;
  subtitle?: string;
  history: EpochLog[];
  diagnosis: Diagnosis;
  weights?: WeightEpoch[];
  test?: { loss: number; accuracy: number } | null;
  facts?: [string, string][];
  /** also render PNG copies (default true) */
  png?: boolean;
  /** where a PNG that could not be made or written is reported (default: a line on stderr) */
  warn?: (line: string) => void;
}

const warnOnStderr = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/**
 * Write `file` (a .png) rasterized from `svg`. A PNG is a convenience copy of a chart whose SVG
 * is already written, so failing to make or write it (no space left, a rendering bug) is one
 * warning line, never the end of a finished training. Returns whether it was written.
 */
export function writePngCopy(file: string, svg: string, warn: (line: string) => void = warnOnStderr): boolean {
  try {
    writeFileAtomic(file, svgToPng(svg));
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = err instanceof WriteError ? err.reason : code ?? (err as Error).message;
    warn(`fitlab: warning: the chart ${file} was not written: ${why}; the SVG beside it has the same chart`);
    return false;
  }
}

/** Write the charts and report.html into `dir`; returns the files written. */
export function writeRunReport(dir: string, r: RunReportInput): string[] {
  const files: string[] = [];
  const put = (name: string, data: string | Buffer): void => {
    writeFileAtomic(join(dir, name), data);
    files.push(join(dir, name));
  };
  const charts: [string, string][] = [['loss', lossChart(r.history, r.diagnosis)], ['accuracy', accuracyChart(r.history, r.diagnosis)], ['gap', gapChart(r.history, r.diagnosis)]];
  if (r.weights?.length) charts.push(['weights', distanceChart(r.weights)]);
  if (r.weights?.some((w) => w.histogram)) charts.push(['histograms', histogramsChart(r.weights)]);
  for (const [name, svg] of charts) {
    put(`${name}.svg`, svg);
    if (r.png !== false && writePngCopy(join(dir, `${name}.png`), svg, r.warn)) files.push(join(dir, `${name}.png`));
  }
  put('report.html', renderReport(r));
  return files;
}
