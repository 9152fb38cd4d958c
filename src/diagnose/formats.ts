/**
 * Training logs as people have them, read into one shape: a table of named columns, one row per
 * logged line. The format comes from the content, not the extension (Keras names its CSVLogger
 * file `training.log`): a JSON object (a Keras `history.history` dict of lists, a TF.js
 * `model.fit` History `{epoch: [...], history: {...}}`, a nested `{epochs, metrics: {...}}`, a
 * pandas `to_json()` dict of dicts, a Hugging Face `trainer_state.json`), a JSON list of records,
 * JSON lines, or CSV/TSV with a sniffed delimiter. Which column means what is decided later
 * (columns.ts); this file only gets the numbers and where each one sits in the file.
 */
import { FitlabError, describe } from '../errors.js';

/** A cell: a number (NaN included), null when empty or absent, or a string describing text that is not a number. */
export type Cell = number | null | string;

export type TableKind = 'keras-json' | 'tfjs-json' | 'json' | 'hf-trainer-state' | 'jsonl' | 'keras-csv' | 'lightning-csv' | 'fastai-csv' | 'csv';

export interface Table {
  kind: TableKind;
  /** column names as the file writes them */
  names: string[];
  /** row-major cells, rows.length rows of names.length cells */
  rows: Cell[][];
  /** where a cell sits, for messages: `line 3, column "loss"` or `"loss"[2] (epoch 3)` */
  at(row: number, col: number): string;
  /** the message for a cell that is not a number */
  notNumber(row: number, col: number): string;
  /** what reading had to decide (summary rows skipped, grouping), said to the user */
  notes: string[];
  /** the noun for "no loss" errors: `list`/`keys` for JSON, `column`/`columns` for CSV */
  json: boolean;
}

/**
 * A number as Python, Keras' CSVLogger, pandas or fastai write it: decimal, nan/NaN, inf/Infinity,
 * -inf/-Infinity. An empty cell, NA and fastai's #na# are null (not logged). Anything else is
 * undefined (not a number).
 */
export function numberCell(text: string): number | null | undefined {
  const cell = text.trim().toLowerCase();
  if (cell === '' || cell === 'na' || cell === '#na#' || cell === 'none' || cell === 'null') return null;
  if (cell === 'nan') return Number.NaN;
  if (cell === 'inf' || cell === '+inf' || cell === 'infinity' || cell === '+infinity') return Infinity;
  if (cell === '-inf' || cell === '-infinity') return -Infinity;
  const v = Number(cell);
  return Number.isNaN(v) ? undefined : v;
}

/** fastai writes an epoch's time as mm:ss (or h:mm:ss): seconds, or undefined for anything else. */
export function clockSeconds(text: string): number | undefined {
  const m = /^\s*(?:(\d+):)?(\d{1,2}):(\d{2})\s*$/.exec(text);
  return m ? Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3]) : undefined;
}

// ---- CSV ----------------------------------------------------------------------------------------

/** Split one CSV line, honouring double quotes ("Train Loss", "1,5"). */
function splitLine(line: string, sep: string): string[] {
  if (!line.includes('"')) return line.split(sep);
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cur += '"'; i++; }
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === sep) { out.push(cur); cur = ''; }
    else cur += ch;
  }
  out.push(cur);
  return out;
}

/**
 * The delimiter: of comma, semicolon and tab, the one that splits the header into the most
 * columns and every one of the first rows into as many (a decimal comma must not win).
 */
function sniffDelimiter(lines: string[]): string {
  const sample = lines.slice(0, 6);
  let best = ',';
  let bestCols = 1;
  for (const sep of [',', '\t', ';']) {
    const counts = sample.map((l) => splitLine(l, sep).length);
    if (counts[0] > bestCols && counts.every((c) => c === counts[0])) {
      best = sep;
      bestCols = counts[0];
    }
  }
  if (bestCols === 1) {
    // rows of unequal length: the header decides, and the ragged row is reported later
    const header = lines[0];
    best = [',', '\t', ';'].reduce((a, s) => (header.split(s).length > header.split(a).length ? s : a), ',');
  }
  return best;
}

export function parseCsv(text: string, where: string): Table {
  const all = text.replace(/^\uFEFF/, '').split(/\r?\n|\r/);
  const lineNo: number[] = [];
  const lines: string[] = [];
  all.forEach((l, i) => {
    if (l.trim()) {
      lines.push(l);
      lineNo.push(i + 1);
    }
  });
  if (lines.length < 2) throw new FitlabError(`${where}: a CSVLogger file needs a header and at least one row`);
  const sep = sniffDelimiter(lines);
  const names = splitLine(lines[0], sep).map((h) => h.trim());
  const raw: string[][] = [];
  const rows = lines.slice(1).map((line, r) => {
    const cells = splitLine(line, sep);
    // a ragged row cannot say which value belongs to which column (a missing value is an empty cell)
    if (cells.length !== names.length) {
      throw new FitlabError(`${where}: line ${lineNo[r + 1]} has ${cells.length} cells; the header has ${names.length} columns (${names.join(', ')})`);
    }
    raw.push(cells);
    return cells.map((c): Cell => {
      const v = numberCell(c);
      return v === undefined ? describe(c.trim()) : v;
    });
  });
  // fastai's time column (mm:ss) becomes seconds
  names.forEach((n, c) => {
    if (!/^time$/i.test(n)) return;
    rows.forEach((row, r) => {
      if (typeof row[c] === 'string') row[c] = clockSeconds(raw[r][c]) ?? row[c];
    });
  });
  return {
    kind: 'csv', names, rows, notes: [], json: false,
    at: (r, c) => `line ${lineNo[r + 1]}, column "${names[c]}"`,
    notNumber: (r, c) => `line ${lineNo[r + 1]}, column "${names[c]}": ${rows[r][c] as string} is not a number`,
  };
}

// ---- JSON ---------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function jsonCell(x: unknown): Cell {
  if (typeof x === 'number') return x;
  if (x === null || x === undefined) return null;
  if (typeof x === 'string') {
    const v = numberCell(x);
    return v === undefined ? describe(x) : v;
  }
  return describe(x);
}

/** pandas `DataFrame.to_json()` writes {"loss": {"0": 1.2, "1": 0.9}}: an index-keyed dict is a list. */
function asList(v: unknown): unknown[] | null {
  if (Array.isArray(v)) return v as unknown[];
  if (!isObj(v)) return null;
  const keys = Object.keys(v);
  if (!keys.length || !keys.every((k) => /^\d+$/.test(k))) return null;
  return keys.sort((a, b) => Number(a) - Number(b)).map((k) => v[k]);
}

/** A table from a dict of lists (Keras, TF.js, nested {metrics: {...}}, pandas to_json). */
function fromListDict(lists: [string, unknown[]][], kind: TableKind, where: string, notes: string[]): Table {
  const n = lists[0][1].length;
  // Keras writes one value per epoch in every list: lists of different lengths are a damaged or
  // hand-merged file, and padding the short ones with NaN would read as a divergence
  if (lists.some(([, v]) => v.length !== n)) {
    const lengths = lists.map(([k, v]) => `${k}: ${v.length}`).join(', ');
    throw new FitlabError(`${where}: the lists have different lengths (${lengths})`, 'a Keras history holds one value per epoch in every list');
  }
  const names = lists.map(([k]) => k);
  const rows = Array.from({ length: n }, (_, i) => lists.map(([, v]) => jsonCell(v[i])));
  return {
    kind, names, rows, notes, json: true,
    at: (r, c) => `"${names[c]}"[${r}] (epoch ${r + 1})`,
    notNumber: (r, c) => `"${names[c]}"[${r}] is ${rows[r][c] as string}, not a number`,
  };
}

/** A table from a list of records (JSON lines, a JSON list of objects). */
export function fromRecords(records: Obj[], kind: TableKind, label: (i: number) => string, notes: string[] = []): Table {
  const names: string[] = [];
  for (const rec of records) for (const k of Object.keys(rec)) if (!names.includes(k)) names.push(k);
  const rows = records.map((rec) => names.map((k) => jsonCell(rec[k])));
  return {
    kind, names, rows, notes, json: true,
    at: (r, c) => `${label(r)} "${names[c]}"`,
    notNumber: (r, c) => `${label(r)}: "${names[c]}" is ${rows[r][c] as string}, not a number`,
  };
}

const SHAPE_HINT = 'a Keras history (a dict of lists such as {"loss": [...], "val_loss": [...]})';

/** Any parsed JSON history → a table. */
export function tableFromJson(parsed: unknown, where: string): Table {
  if (Array.isArray(parsed) && parsed.length && parsed.every(isObj)) {
    return fromRecords(parsed, 'json', (i) => `record ${i + 1}`);
  }
  if (!isObj(parsed)) throw new FitlabError(`${where}: expected ${SHAPE_HINT}`);
  if (Array.isArray(parsed.log_history)) return fromTrainerState(parsed.log_history, where);
  const lists: [string, unknown[]][] = [];
  let kind: TableKind = 'keras-json';
  const notes: string[] = [];
  // TF.js History {epoch: [...], history: {...}}; a Keras dump wrapped in {"history": ...}; a
  // nested {epochs: [...], metrics: {...}}: the lists of the inner dict, with the epoch list
  for (const inner of ['history', 'metrics']) {
    if (!isObj(parsed[inner])) continue;
    for (const [k, v] of Object.entries(parsed[inner])) {
      const l = asList(v);
      if (l) lists.push([k, l]);
    }
    if (lists.length) {
      const epochs = asList(parsed.epoch) ?? asList(parsed.epochs);
      if (epochs && epochs.length === lists[0][1].length) lists.unshift(['epoch', epochs]);
      kind = Array.isArray(parsed.epoch) && inner === 'history' ? 'tfjs-json' : inner === 'history' ? 'keras-json' : 'json';
      break;
    }
  }
  if (!lists.length) {
    for (const [k, v] of Object.entries(parsed)) {
      const l = asList(v);
      if (l) lists.push([k, l]);
    }
  }
  if (!lists.length) throw new FitlabError(`${where}: expected ${SHAPE_HINT}`);
  return fromListDict(lists, kind, where, notes);
}

// ---- Hugging Face trainer_state.json -------------------------------------------------------------

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Hugging Face Trainer's log_history: training entries ({loss, learning_rate, grad_norm, epoch,
 * step}) every logging_steps, evaluation entries ({eval_loss, eval_accuracy, …}) every
 * evaluation, and a last summary ({train_loss, train_runtime, …}) that is skipped. With
 * evaluations, one point per evaluation: its metrics beside the mean of the training entries
 * logged since the previous one. Without, one point per whole epoch (the training entries whose
 * fractional epoch rounds up to it).
 */
function fromTrainerState(log: unknown[], where: string): Table {
  const entries = log.filter(isObj);
  const summary = entries.filter((e) => 'train_runtime' in e || ('train_loss' in e && !('loss' in e)));
  const train = entries.filter((e) => typeof e.loss === 'number' || e.loss === null);
  const evals = entries.filter((e) => Object.keys(e).some((k) => k.startsWith('eval_') && k !== 'eval_runtime' && !k.startsWith('eval_samples') && !k.startsWith('eval_steps')));
  const notes: string[] = [];
  if (summary.length) notes.push('the end-of-training summary entry (train_loss, train_runtime) is not an epoch: skipped');
  const pos = (e: Obj): number => (typeof e.step === 'number' ? e.step : typeof e.epoch === 'number' ? e.epoch : Number.NaN);
  const trainKeys = ['loss', 'learning_rate', 'grad_norm'];
  const averaged = (group: Obj[]): Obj => {
    const out: Obj = {};
    for (const k of trainKeys) {
      const xs = group.map((e) => e[k]).filter((v): v is number => typeof v === 'number');
      if (xs.length) out[k] = mean(xs);
    }
    return out;
  };
  const records: Obj[] = [];
  if (evals.length) {
    let prev = -Infinity;
    let carried: Obj | null = null;
    let skippedEarly = 0;
    for (const ev of evals) {
      const p = pos(ev);
      const group = train.filter((t) => pos(t) > prev && pos(t) <= p);
      prev = p;
      if (group.length) carried = averaged(group);
      if (!carried && train.length) {
        skippedEarly++;
        continue;
      }
      const rec: Obj = { ...(carried ?? {}), trainer_epoch: ev.epoch };
      for (const [k, v] of Object.entries(ev)) if (k.startsWith('eval_')) rec[k] = v;
      records.push(rec);
    }
    const after = train.filter((t) => pos(t) > prev).length;
    if (skippedEarly) notes.push(`${skippedEarly} evaluation(s) before the first training log: skipped`);
    if (after) notes.push(`${after} training log(s) after the last evaluation: not shown`);
    notes.push(`one point per evaluation (${records.length}), training loss averaged since the previous one`);
  } else {
    const byEpoch = new Map<number, Obj[]>();
    for (const t of train) {
      const e = typeof t.epoch === 'number' ? Math.max(1, Math.ceil(t.epoch - 1e-9)) : byEpoch.size + 1;
      byEpoch.set(e, [...(byEpoch.get(e) ?? []), t]);
    }
    for (const [e, group] of byEpoch) records.push({ ...averaged(group), trainer_epoch: e });
    const epochs = [...byEpoch.keys()];
    const gaps = epochs.some((e, i) => i > 0 && e - epochs[i - 1] > 1);
    notes.push(`no evaluation was logged: one point per epoch with training logs${gaps ? ` (${records.length} points for epochs ${epochs[0]}–${epochs[epochs.length - 1]}: "epoch n" below counts points)` : ''}`);
  }
  if (!records.length) throw new FitlabError(`${where}: the trainer_state.json log_history holds no training or evaluation entries`, 'set logging_steps and an evaluation strategy in TrainingArguments');
  return fromRecords(records, 'hf-trainer-state', (i) => `log_history point ${i + 1}`, notes);
}

// ---- sniffing -----------------------------------------------------------------------------------

/**
 * JSON lines: every non-empty line a JSON object. Returns the records, or null when the text is
 * not JSON lines.
 */
export function jsonLines(text: string, parse: (t: string) => unknown): Obj[] | null {
  const lines = text.split(/\r?\n/).filter((l) => l.trim());
  if (lines.length < 1 || !lines[0].trim().startsWith('{')) return null;
  const out: Obj[] = [];
  for (const l of lines) {
    let v: unknown;
    try {
      v = parse(l);
    } catch {
      return null;
    }
    if (!isObj(v)) return null;
    out.push(v);
  }
  return out;
}
