/**
 * Curves with uPlot: one x axis in epochs (a batch point sits at epoch + batch/batches, an
 * epoch's log at its end) or another x (examples seen, wall time), series that may be sparse
 * (nulls are bridged), TensorBoard's debiased exponential smoothing, vertical marks (onset,
 * best epoch, knob changes), a log-scale y, and a robust y range: the first batches' loss
 * (often 10× the rest) would otherwise squash the curve people look at into a flat line.
 */
import uPlot from 'uplot';
import { robustRange } from './scale.js';

export interface Mark {
  x: number;
  label: string;
  color: string;
}

export interface SeriesDef {
  label: string;
  color: string;
  dash?: number[];
  width?: number;
  points?: boolean;
}

export interface ChartOptions {
  /** y on a log10 scale (values ≤ 0 are not drawn) */
  log?: boolean;
  /** y range from the bulk of the values, outliers left off the top and bottom (default true) */
  robust?: boolean;
}

/** TensorBoard's smoothing: EMA with weight w, debiased at the start; nulls pass through. */
export function smooth(values: (number | null)[], w: number): (number | null)[] {
  if (w <= 0) return values;
  let last = 0;
  let n = 0;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return v;
    last = last * w + (1 - w) * v;
    n++;
    return last / (1 - w ** n);
  });
}

function marksPlugin(get: () => Mark[]): uPlot.Plugin {
  return {
    hooks: {
      draw: [
        (u: uPlot) => {
          const ctx = u.ctx;
          const { top, height } = u.bbox;
          ctx.save();
          ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
          ctx.textBaseline = 'top';
          get().forEach((m, i) => {
            const x = Math.round(u.valToPos(m.x, 'x', true));
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
            ctx.strokeStyle = m.color;
            ctx.fillStyle = m.color;
            ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
            ctx.lineWidth = devicePixelRatio;
            ctx.beginPath();
            ctx.moveTo(x, top);
            ctx.lineTo(x, top + height);
            ctx.stroke();
            ctx.fillText(m.label, x + 3 * devicePixelRatio, top + (2 + 13 * (i % 3)) * devicePixelRatio);
          });
          ctx.restore();
        },
      ],
    },
  };
}

/**
 * Which ticks of a log axis get a label: all of them over a short range (uPlot's default labels
 * only 1× powers, leaving a 0.6–1.6 loss axis nearly bare), 1, 2 and 5 × 10^k over a long one.
 */
function logTicks(_u: uPlot, splits: number[]): (number | null)[] {
  if (splits.length <= 12) return splits;
  return splits.map((v) => {
    const lead = Math.round(v / 10 ** Math.floor(Math.log10(v) + 1e-9));
    return lead === 1 || lead === 2 || lead === 5 ? v : null;
  });
}

/**
 * A log axis' ends moved out to the nearest whole step of their decade (0.589 → 0.5, 1.63 → 2), so
 * the top and the bottom of the curves both have a labelled tick.
 */
function decadeSteps([lo, hi]: uPlot.Range.MinMax): uPlot.Range.MinMax {
  const step = (v: number): number => 10 ** Math.floor(Math.log10(v));
  const down = lo !== null && lo > 0 ? Math.floor(lo / step(lo)) * step(lo) : lo;
  const up = hi !== null && hi > 0 ? Math.ceil(hi / step(hi)) * step(hi) : hi;
  return [down, up];
}

const EPOCH_STEPS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000];

export class Chart {
  private plot: uPlot | null = null;
  private marks: Mark[] = [];
  private readonly host: HTMLElement;
  private readonly defs: SeriesDef[];
  private readonly yLabel: string;
  private readonly xLabel: string;
  private data: uPlot.AlignedData = [[]];
  private options: ChartOptions;
  /** the series as given (the log scale drops values ≤ 0 from what is drawn, not from these) */
  private raw: (number | null)[][] = [];

  constructor(host: HTMLElement, defs: SeriesDef[], yLabel: string, xLabel = 'epoch', options: ChartOptions = {}) {
    this.host = host;
    this.defs = defs;
    this.yLabel = yLabel;
    this.xLabel = xLabel;
    this.options = options;
    new ResizeObserver(() => this.resize()).observe(host);
  }

  /** Switch the log scale or the robust range (the plot is rebuilt). */
  configure(options: ChartOptions): void {
    this.options = { ...this.options, ...options };
    this.plot?.destroy();
    this.plot = null;
    this.set(this.data[0] as number[], this.raw, this.marks);
  }

  private size(): { width: number; height: number } {
    // the legend goes below the plot area, inside the host (which has no fixed height)
    return { width: Math.max(240, this.host.clientWidth), height: 260 };
  }

  private resize(): void {
    this.plot?.setSize(this.size());
  }

  private create(): uPlot {
    const opts: uPlot.Options = {
      ...this.size(),
      scales: {
        x: { time: false },
        y: {
          distr: this.options.log ? 3 : 1,
          log: 10,
          range: (_u, dataMin, dataMax) => {
            let r: uPlot.Range.MinMax | null = null;
            if (this.options.robust !== false) r = robustRange(this.data.slice(1).flat() as (number | null)[], this.options.log);
            r ??= uPlot.rangeNum(dataMin, dataMax, 0.1, true);
            return this.options.log ? decadeSteps(r) : r;
          },
        },
      },
      // epochs are whole numbers: ticks at 1, 2, 5, 10, … epochs, never 1.25
      axes: [this.xLabel === 'epoch' ? { label: this.xLabel, incrs: EPOCH_STEPS, values: (_u, splits) => splits.map((v) => String(v)) } : { label: this.xLabel }, { label: this.yLabel, size: 60, ...(this.options.log ? { filter: logTicks } : {}) }],
      series: [
        { label: this.xLabel, value: (_u, v) => (v === null ? '–' : v.toFixed(2)) },
        ...this.defs.map((d) => ({
          label: d.label, stroke: d.color, width: d.width ?? 1.5, dash: d.dash, spanGaps: true,
          points: { show: d.points ?? false, size: 5 },
          value: (_u: uPlot, v: number | null) => (v === null ? '–' : Number(v.toPrecision(4)).toString()),
        })),
      ],
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
      plugins: [marksPlugin(() => this.marks)],
    };
    return new uPlot(opts, this.data, this.host);
  }

  /** x must be ascending; each series one value or null per x. */
  set(x: number[], series: (number | null)[][], marks: Mark[] = []): void {
    this.marks = marks;
    this.raw = series;
    // a log axis cannot place 0 or negatives: they are left out rather than breaking the scale
    const ys = this.options.log ? series.map((ys) => ys.map((y) => (y !== null && y > 0 ? y : null))) : series;
    this.data = [x, ...ys] as uPlot.AlignedData;
    this.host.dataset.log = String(!!this.options.log);
    // for tests and curious users: how many x values the chart holds
    this.host.dataset.points = String(x.length);
    if (!this.plot) this.plot = this.create();
    else this.plot.setData(this.data);
  }

  get points(): number {
    return (this.data[0] as number[]).length;
  }

  destroy(): void {
    this.plot?.destroy();
    this.plot = null;
  }
}

/** Align several sparse (x, y) lists on the union of their x values. */
export function align(lists: { x: number; y: number | null }[][]): { x: number[]; ys: (number | null)[][] } {
  const xs = [...new Set(lists.flatMap((l) => l.map((p) => p.x)))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = lists.map((l) => {
    const out = new Array<number | null>(xs.length).fill(null);
    for (const p of l) out[index.get(p.x) as number] = p.y !== null && Number.isFinite(p.y) ? p.y : null;
    return out;
  });
  return { x: xs, ys };
}
