/**
 * Reading histories: a fitlab run directory (history.jsonl + config.json), our history.jsonl, or
 * a training log from elsewhere, recognized by its content whatever its name: a Keras
 * `history.history` JSON (Python writes NaN and Infinity bare, which is accepted here), a TF.js
 * History, a Hugging Face trainer_state.json, JSON lines, or a CSV/TSV (Keras' CSVLogger, pandas,
 * PyTorch Lightning's metrics.csv, fastai's CSVLogger, hand-made). formats.ts parses the file
 * into a table, columns.ts says which column is what; here the numbers are checked (accuracies
 * as fractions, percent columns divided), Lightning's step rows merged, and a log holding
 * several appended runs split into segments.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ArgumentError, FitlabError, describe } from '../errors.js';
import { RUN_FILES, readHistoryFile, readRunConfig } from '../io/run-dir.js';
import type { EpochLog } from '../train/history.js';
import { type DiagnoseContext } from './diagnose.js';
import { contextFromRunConfig } from './context.js';
import { ACCEPTED_TEXT, type ColumnMap, type ManualColumns, mapColumns, normName } from './columns.js';
import { type Table, type TableKind, fromRecords, jsonLines, parseCsv, tableFromJson } from './formats.js';

export type HistoryKind = 'run' | TableKind;

export interface LoadedHistory {
  history: EpochLog[];
  source: string;
  kind: HistoryKind;
  /** run directory, when there is one */
  runDir: string | null;
  context: DiagnoseContext;
  /** what each column was read as (loss, val_loss, accuracy, val_accuracy, learning_rate → the file's name); empty for fitlab's own files */
  columns: Record<string, string>;
  /** the column the epochs came from */
  epochColumn: string | null;
  /** columns not read: an index, per-step columns, text */
  ignored: string[];
  /** what reading decided: percent columns, merged rows, segments, skipped entries */
  notes: string[];
  /** epochs per appended run, and the 1-based one diagnosed */
  segments: { lengths: number[]; diagnosed: number };
}

/** Deepest nesting a history file may have: a Keras history is 2–3 levels deep. */
export const MAX_HISTORY_DEPTH = 64;

/**
 * JSON.parse that accepts Python's bare NaN, Infinity and -Infinity (outside strings). Nesting
 * deeper than MAX_HISTORY_DEPTH is refused before parsing: JSON.parse's reviver recurses and
 * would overflow the stack on a 200,000-deep file.
 */
export function parsePythonJson(text: string): unknown {
  let out = '';
  let inString = false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      out += ch;
      if (ch === '\\') out += text[++i] ?? '';
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') {
      inString = true;
      out += ch;
      continue;
    }
    if (ch === '[' || ch === '{') {
      if (++depth > MAX_HISTORY_DEPTH) throw new FitlabError(`the JSON nests deeper than ${MAX_HISTORY_DEPTH} levels (a Keras history is a dict of lists)`);
    } else if (ch === ']' || ch === '}') depth--;
    // startsWith at i, not a slice per character: a 200,000-epoch history is megabytes
    if (text.startsWith('NaN', i)) { out += '"__NaN__"'; i += 2; continue; }
    if (text.startsWith('-Infinity', i)) { out += '"__-Inf__"'; i += 8; continue; }
    if (text.startsWith('Infinity', i)) { out += '"__Inf__"'; i += 7; continue; }
    out += ch;
  }
  return JSON.parse(out, (_k, v: unknown) => (v === '__NaN__' ? Number.NaN : v === '__Inf__' ? Infinity : v === '__-Inf__' ? -Infinity : v));
}

/** A Keras history dict of lists → epoch logs. */
export function fromKerasDict(dict: Record<string, unknown>, where: string): EpochLog[] {
  return readTable(tableFromJson(dict, where), where).history;
}

/** Keys that hold accuracies: accuracy, val_accuracy, sparse_categorical_accuracy, … */
const isAccuracyKey = (key: string): boolean => key.includes('accuracy');
const isLossKey = (key: string): boolean => key === 'loss' || key === 'val_loss';

/**
 * Refuse numbers no classifier run can log, naming the place (`at`): an accuracy outside [0, 1]
 * (97.3 is likely a percentage — we refuse rather than guess) and a negative loss (cross-entropy
 * and mean squared error, the losses fitlab trains with, are never below 0). NaN and ±Infinity
 * in a loss are data (a divergence); NaN in an accuracy is a missing value.
 */
export function checkMetric(key: string, value: number, at: string): void {
  if (isAccuracyKey(key) && !Number.isNaN(value) && !(value >= 0 && value <= 1)) {
    const hint = value > 1 && value <= 100 ? `if ${value} is a percentage, divide the column by 100 (fitlab reads accuracies as fractions)` : undefined;
    throw new FitlabError(`${at}: ${key} is ${value}; an accuracy must be in [0, 1]`, hint);
  }
  if (isLossKey(key) && Number.isFinite(value) && value < 0) {
    throw new FitlabError(`${at}: ${key} is ${value}; a cross-entropy loss is never negative`, 'fitlab diagnoses classifiers trained with cross-entropy (or mean squared error), whose losses are ≥ 0');
  }
}

/**
 * Check the epochs read from a history.jsonl: each line an object whose loss is a number (null
 * is a missing value, already NaN) and whose metrics pass checkMetric.
 */
function checkJsonlEpochs(history: EpochLog[], file: string): void {
  history.forEach((log, i) => {
    const at = `${file}: line ${i + 1}`;
    if (!log || typeof log !== 'object' || Array.isArray(log)) throw new FitlabError(`${at} is ${describe(log)}, not an object of metrics`);
    if (typeof log.loss !== 'number') throw new FitlabError(`${at}: "loss" is ${describe(log.loss)}, not a number`);
    for (const [k, v] of Object.entries(log)) {
      if (!isAccuracyKey(k) && !isLossKey(k)) continue;
      if (typeof v !== 'number') throw new FitlabError(`${at}: "${k}" is ${describe(v)}, not a number`);
      checkMetric(k, v, `${at} (epoch ${i + 1})`);
    }
  });
}


// ---- any table → epoch logs ------------------------------------------------------------------

export interface ReadOptions {
  /** 1-based segment of a log whose epoch column restarts (default: the last) */
  segment?: number;
  /** columns named by hand */
  columns?: ManualColumns;
  /** the log is a classifier's (a class count was given): a negative loss is then an error */
  classifier?: boolean;
}

export interface ReadResult {
  history: EpochLog[];
  /** what each column was read as: loss, val_loss, accuracy, val_accuracy, learning_rate → the file's column */
  columns: Record<string, string>;
  /** the column the epochs came from, if any */
  epochColumn: string | null;
  /** columns not read: an index, per-step columns, text */
  ignored: string[];
  /** what reading decided, in words */
  notes: string[];
  /** epochs per segment (runs appended to one log), and the 1-based one diagnosed */
  segments: { lengths: number[]; diagnosed: number };
  fastai: boolean;
}

type Values = (number | null)[];
const METRIC_ROLES = ['loss', 'val_loss', 'accuracy', 'val_accuracy'] as const;
const CANONICAL = new Set(['epoch', 'loss', 'val_loss', 'accuracy', 'val_accuracy', 'learning_rate', 'penalty', 'seconds']);

/** A column's numbers; text in a column that must be numeric is an error naming the cell. */
function numericColumn(table: Table, c: number, where: string, strict: boolean): Values | null {
  const out: Values = [];
  for (let r = 0; r < table.rows.length; r++) {
    const v = table.rows[r][c];
    if (typeof v === 'string') {
      if (strict) throw new FitlabError(`${where}: ${table.notNumber(r, c)}`);
      return null;
    }
    out.push(v);
  }
  return out;
}

/**
 * Accuracies as fractions. A column whose values all lie in [0, 100] with most of them above 1 is
 * in percent (97.3 means 97.3%: no classifier logs accuracies above 1 otherwise) and is divided
 * by 100, saying so; a lone value above 1 among fractions (4.0 beside 0.4 and 0.6) is an error.
 */
function fractionColumn(values: Values, table: Table, c: number, role: string, where: string, notes: string[]): Values {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  const above = finite.filter((v) => v > 1).length;
  if (above && finite.every((v) => v >= 0 && v <= 100) && above * 2 > finite.length) {
    notes.push(`"${table.names[c]}" is in percent (values up to ${Math.max(...finite)}): read as ${role} ÷ 100`);
    return values.map((v) => (v === null ? null : v / 100));
  }
  values.forEach((v, r) => {
    if (v === null || Number.isNaN(v) || (v >= 0 && v <= 1)) return;
    const hint = v > 1 && v <= 100 ? `the rest of the column is fractions, so ${v} cannot be a percentage (a percent column has most values above 1)` : undefined;
    throw new FitlabError(`${where}: ${table.at(r, c)}: ${role} is ${v}; an accuracy must be in [0, 1]`, hint);
  });
  return values;
}

/**
 * Lightning's CSVLogger writes step rows and epoch rows with empty cells for what each does not
 * log: rows of one epoch are merged (the mean of what they hold), and the rows a validate() or
 * test() call adds after training, which hold no training loss, are dropped.
 */
function mergeEpochRows(cols: Map<number, Values>, epochCol: number, notes: string[]): Map<number, Values> {
  const epochs = cols.get(epochCol) as Values;
  const groups: number[][] = [];
  epochs.forEach((e, r) => {
    const last = groups[groups.length - 1];
    if (last && epochs[last[0]] === e) last.push(r);
    else groups.push([r]);
  });
  if (groups.length === epochs.length) return cols;
  const out = new Map<number, Values>();
  for (const [c, values] of cols) {
    out.set(c, groups.map((g) => {
      const xs = g.map((r) => values[r]).filter((v): v is number => v !== null);
      return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
    }));
  }
  notes.push(`${epochs.length} rows (step and epoch rows) merged into ${groups.length} epochs`);
  return out;
}

/** Where the epoch column restarts (0,1,2,0,1,…): the lengths of the runs appended to one log. */
function segmentLengths(epochs: Values | null, n: number, name: string, notes: string[]): number[] {
  if (!epochs || n < 2) return [n];
  const finite = epochs.filter((v): v is number => v !== null && Number.isFinite(v));
  if (finite.length && finite.every((v) => v === finite[0])) {
    notes.push(`the epoch column "${name}" is ${finite[0]} in every row: the rows are read in order`);
    return [n];
  }
  const lengths = [1];
  for (let r = 1; r < n; r++) {
    const a = epochs[r - 1];
    const b = epochs[r];
    if (a !== null && b !== null && b <= a) lengths.push(1);
    else lengths[lengths.length - 1]++;
  }
  return lengths;
}

/** Column names for a message: at most 30, each at most 40 characters (a binary file has a long "header"). */
export function nameList(names: string[]): string {
  const shown = names.slice(0, 30).map((n) => (n.length > 40 ? `${n.slice(0, 39)}…` : n));
  return shown.join(', ') + (names.length > 30 ? `, … (${names.length - 30} more)` : '');
}

/** A table read as epoch logs: columns mapped, checked, merged, split into segments. */
export function readTable(table: Table, where: string, opts: ReadOptions = {}): ReadResult {
  const map = mapColumns(table, opts.columns);
  const { roles } = map;
  const notes = [...table.notes, ...map.notes];
  if (roles.loss === undefined && roles.val_loss === undefined) {
    const what = table.json ? `the history has no "loss" list (keys: ${nameList(table.names)})` : `the CSV header has no "loss" column (columns: ${nameList(table.names)})`;
    throw new FitlabError(`${where}: ${what}`, `accepted names — ${ACCEPTED_TEXT}; or name the columns with --loss COL --val-loss COL --acc COL --val-acc COL`);
  }
  const classifier = Boolean(opts.classifier) || roles.accuracy !== undefined || roles.val_accuracy !== undefined;
  const cols = new Map<number, Values>();
  for (const role of METRIC_ROLES) {
    const c = roles[role];
    if (c === undefined) continue;
    let values = numericColumn(table, c, where, true) as Values;
    if (role === 'accuracy' || role === 'val_accuracy') {
      values = fractionColumn(values, table, c, map.errorRate.has(role) ? 'an error rate' : role, where, notes);
      if (map.errorRate.has(role)) {
        values = values.map((v) => (v === null ? null : 1 - v));
        notes.push(`"${table.names[c]}" is an error rate: ${role} = 1 − error`);
      }
    } else if (classifier) {
      values.forEach((v, r) => {
        if (v !== null && Number.isFinite(v) && v < 0) {
          throw new FitlabError(`${where}: ${table.at(r, c)}: ${role} is ${v}; a cross-entropy loss is never negative`, 'fitlab diagnoses classifiers trained with cross-entropy (or mean squared error), whose losses are ≥ 0');
        }
      });
    }
    cols.set(c, values);
  }
  for (const role of ['learning_rate', 'seconds', 'epoch'] as const) {
    const c = roles[role];
    if (c === undefined) continue;
    const values = numericColumn(table, c, where, false);
    if (values) cols.set(c, values);
    else delete roles[role];
  }
  const ignored = map.ignored.map((c) => table.names[c] || '(unnamed index)');
  const used = new Set<number>([...Object.values(roles), ...map.ignored]);
  const extras: number[] = [];
  table.names.forEach((name, c) => {
    if (used.has(c) || CANONICAL.has(name)) return;
    const values = numericColumn(table, c, where, false);
    if (values) {
      cols.set(c, values);
      extras.push(c);
    } else ignored.push(name);
  });
  return assemble(table, map, cols, extras, ignored, notes, opts);
}

function assemble(table: Table, map: ColumnMap, input: Map<number, Values>, extras: number[], ignored: string[], notes: string[], opts: ReadOptions): ReadResult {
  const { roles } = map;
  let cols = input;
  const epochCol = roles.epoch;
  const values = (c: number | undefined): Values | null => (c === undefined ? null : (cols.get(c) ?? null));
  const n0 = table.rows.length;
  const nullShare = METRIC_ROLES.map((r) => values(roles[r])).filter((v): v is Values => v !== null).flat();
  const sparse = table.names.some((n) => normName(n) === 'step') || nullShare.filter((v) => v === null).length > 0.25 * nullShare.length;
  if (epochCol !== undefined && sparse) cols = mergeEpochRows(cols, epochCol, notes);
  let n = (cols.values().next().value as Values).length;
  if (roles.loss !== undefined) {
    const loss = values(roles.loss) as Values;
    let end = n;
    while (end > 0 && loss[end - 1] === null && loss.some((v) => v !== null)) end--;
    if (end < n) {
      notes.push(`${n - end} trailing row(s) without a training loss (a validate() or test() call after training): not read`);
      for (const [c, v] of cols) cols.set(c, v.slice(0, end));
      n = end;
    }
  }
  if (!n || !n0) return { history: [], columns: {}, epochColumn: null, ignored, notes, segments: { lengths: [0], diagnosed: 1 }, fastai: map.fastai };
  const lengths = segmentLengths(values(epochCol), n, epochCol === undefined ? '' : table.names[epochCol], notes);
  const count = lengths.length;
  const k = opts.segment ?? count;
  if (!Number.isInteger(k) || k < 1 || k > count) {
    throw new ArgumentError(`--segment ${k}: the log holds ${count} segment${count > 1 ? 's' : ''} (${lengths.join(' + ')} epochs); pick 1 to ${count}`);
  }
  if (count > 1) notes.push(`the epoch column restarts: ${count} runs appended (${lengths.join(' + ')} epochs); diagnosing segment ${k} of ${count} (--segment N picks another)`);
  const start = lengths.slice(0, k - 1).reduce((a, b) => a + b, 0);
  // a resumed run (Keras initial_epoch) starts its epoch column late: the output counts its rows
  const firstEpoch = values(epochCol)?.[start];
  if (firstEpoch !== undefined && firstEpoch !== null && Number.isFinite(firstEpoch) && firstEpoch !== 0 && firstEpoch !== 1 && lengths.length === 1) {
    notes.push(`the epoch column "${table.names[epochCol as number]}" starts at ${firstEpoch}: "epoch 1" below is its first row`);
  }
  const history: EpochLog[] = [];
  for (let i = 0; i < lengths[k - 1]; i++) {
    const r = start + i;
    const at = (c: number | undefined): number => {
      const v = values(c);
      return v && v[r] !== null ? v[r] : Number.NaN;
    };
    const log: Record<string, number> = { epoch: i };
    for (const role of METRIC_ROLES) if (roles[role] !== undefined) log[role] = at(roles[role]);
    log.learning_rate = at(roles.learning_rate);
    log.penalty = Number.NaN;
    log.seconds = at(roles.seconds);
    for (const c of extras) log[table.names[c]] ??= at(c);
    history.push(log as unknown as EpochLog);
  }
  const columns: Record<string, string> = {};
  for (const role of [...METRIC_ROLES, 'learning_rate'] as const) if (roles[role] !== undefined) columns[role] = table.names[roles[role]];
  return { history, columns, epochColumn: epochCol === undefined ? null : table.names[epochCol], ignored, notes, segments: { lengths, diagnosed: k }, fastai: map.fastai };
}

/** A CSV history (Keras, Lightning, fastai, pandas, hand-made) → epoch logs. */
export function fromCsv(text: string, where: string): EpochLog[] {
  return readTable(parseCsv(text, where), where).history;
}

// ---- files --------------------------------------------------------------------------------------

/** The JSON error for a file, one line, naming the file. */
function jsonError(err: unknown, path: string): FitlabError {
  if (err instanceof FitlabError) return new FitlabError(`${path}: ${err.message}`, err.hint);
  // V8 quotes the text around the fault, newlines included: keep the message one line
  return new FitlabError(`${path} is not valid JSON: ${(err as Error).message.replace(/\s+/g, ' ')}`);
}

/** The table a history file holds, by its content: JSON, JSON lines or CSV/TSV, whatever its name. */
function tableOfFile(path: string, text: string): Table {
  // Windows tools (Excel, Notepad) start UTF-8 files with a byte-order mark
  const body = text.replace(/^\uFEFF/, '');
  const head = body.trimStart();
  const jsonish = head.startsWith('{') || head.startsWith('[');
  if (jsonish || /\.json$/i.test(path)) {
    let parsed: unknown;
    try {
      parsed = parsePythonJson(body);
    } catch (err) {
      const records = jsonLines(body, parsePythonJson);
      if (records && records.length > 1) return fromRecords(records, 'jsonl', (i) => `line ${i + 1}:`);
      // a .json that holds a CSV is read as the CSV
      const csvLike = !jsonish && /[,;\t]/.test(head.split(/\r?\n/)[0]);
      if (!csvLike) throw jsonError(err, path);
    }
    if (parsed !== undefined) return tableFromJson(parsed, path);
  }
  const table = parseCsv(text, path);
  const norms = table.names.map(normName);
  table.kind = norms.includes('step') ? 'lightning-csv' : norms.includes('loss') || norms.includes('valloss') ? 'keras-csv' : 'csv';
  return table;
}

function fitlabJsonl(path: string, ctx: DiagnoseContext): LoadedHistory | null {
  const history = readHistoryFile(path);
  if (history.length && history[0] && typeof history[0] === 'object' && !('loss' in history[0])) return null;
  checkJsonlEpochs(history, path);
  return { history, source: path, kind: 'jsonl', runDir: null, context: ctx, columns: {}, notes: [], segments: { lengths: [history.length], diagnosed: 1 }, epochColumn: null, ignored: [] };
}

/**
 * Read a run directory, fitlab's history.jsonl, or any training log (see formats.ts and
 * columns.ts for what is accepted). `classes` goes into the context; `options` picks a segment
 * of an appended log and names columns by hand.
 */
export function loadHistory(path: string, classes?: number, options: ReadOptions = {}): LoadedHistory {
  if (!existsSync(path)) throw new FitlabError(`${path} does not exist`, 'pass a run directory, a history.jsonl, or a training log (Keras history JSON, CSVLogger, Lightning metrics.csv, fastai history.csv, trainer_state.json)');
  const manual = options.columns && Object.values(options.columns).some((v) => v !== undefined);
  if (statSync(path).isDirectory()) {
    if (manual) throw new ArgumentError(`--loss/--val-loss/--acc/--val-acc name the columns of a history file; ${path} is a run directory with fitlab's own history`);
    const file = join(path, RUN_FILES.history);
    if (!existsSync(file)) throw new FitlabError(`${path} has no ${RUN_FILES.history}`, 'the run may not have finished an epoch yet');
    const config = existsSync(join(path, RUN_FILES.config)) ? readRunConfig(path) : null;
    const context = config ? contextFromRunConfig(config) : {};
    if (classes) context.classes = classes;
    const history = readHistoryFile(file);
    checkJsonlEpochs(history, file);
    if (!history.length) throw new FitlabError(`${file} holds no epochs`, 'the run may not have finished an epoch yet');
    return { history, source: file, kind: 'run', runDir: path, context, columns: {}, notes: [], segments: { lengths: [history.length], diagnosed: 1 }, epochColumn: null, ignored: [] };
  }
  const ctx: DiagnoseContext = classes ? { classes } : {};
  if (/\.jsonl$/i.test(path) && !manual) {
    const own = fitlabJsonl(path, ctx);
    if (own) {
      if (!own.history.length) throw new FitlabError(`${path} holds no epochs`, 'a history needs at least one epoch of numbers');
      return own;
    }
  }
  const text = readFileSync(path, 'utf8');
  const table = tableOfFile(path, text);
  const read = readTable(table, path, { ...options, classifier: Boolean(classes) });
  if (!read.history.length) throw new FitlabError(`${path} holds no epochs`, 'a history needs at least one epoch of numbers');
  const kind: HistoryKind = read.fastai ? 'fastai-csv' : table.kind;
  return { history: read.history, source: path, kind, runDir: null, context: ctx, columns: read.columns, notes: read.notes, segments: read.segments, epochColumn: read.epochColumn, ignored: read.ignored };
}
