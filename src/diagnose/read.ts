/**
 * Reading histories: a fitlab run directory (history.jsonl + config.json), our history.jsonl,
 * a Keras `history.history` JSON (a dict of lists — Python writes NaN and Infinity bare, which
 * is accepted here), or a Keras CSVLogger CSV.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FitlabError, describe } from '../errors.js';
import { RUN_FILES, readHistoryFile, readRunConfig } from '../io/run-dir.js';
import type { EpochLog } from '../train/history.js';
import { type DiagnoseContext } from './diagnose.js';
import { contextFromRunConfig } from './context.js';

export interface LoadedHistory {
  history: EpochLog[];
  source: string;
  kind: 'run' | 'jsonl' | 'keras-json' | 'keras-csv';
  /** run directory, when there is one */
  runDir: string | null;
  context: DiagnoseContext;
}

/** Keras' old and new key spellings → ours. */
const KEY_ALIASES: Record<string, string> = { acc: 'accuracy', val_acc: 'val_accuracy', lr: 'learning_rate' };

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
  const isDict = dict !== null && typeof dict === 'object' && !Array.isArray(dict);
  const lists = (isDict ? Object.entries(dict).filter(([, v]) => Array.isArray(v)) : []) as [string, unknown[]][];
  if (!lists.length) throw new FitlabError(`${where}: expected a Keras history (a dict of lists such as {"loss": [...], "val_loss": [...]})`);
  if (!lists.some(([k]) => k === 'loss')) throw new FitlabError(`${where}: the history has no "loss" list (keys: ${lists.map(([k]) => k).join(', ')})`);
  // Keras writes one value per epoch in every list: lists of different lengths are a damaged or
  // hand-merged file, and padding the short ones with NaN would read as a divergence
  const n = lists[0][1].length;
  if (lists.some(([, v]) => v.length !== n)) {
    const lengths = lists.map(([k, v]) => `${k}: ${v.length}`).join(', ');
    throw new FitlabError(`${where}: the lists have different lengths (${lengths})`, 'a Keras history holds one value per epoch in every list');
  }
  return Array.from({ length: n }, (_, i) => {
    const log: Record<string, number> = { epoch: i };
    for (const [k, v] of lists) {
      const x = v[i];
      // null (or a shorter list) is a missing value; a numeric string is read as its number
      let value: number | undefined;
      if (typeof x === 'number') value = x;
      else if (x === null || x === undefined) value = Number.NaN;
      else if (typeof x === 'string') value = numberCell(x);
      if (value === undefined) throw new FitlabError(`${where}: "${k}"[${i}] is ${describe(x)}, not a number`);
      checkMetric(KEY_ALIASES[k] ?? k, value, `${where}: "${k}"[${i}] (epoch ${i + 1})`);
      log[KEY_ALIASES[k] ?? k] = value;
    }
    log.learning_rate ??= Number.NaN;
    log.penalty ??= Number.NaN;
    log.seconds ??= Number.NaN;
    return log as unknown as EpochLog;
  });
}

/**
 * A number as Python, Keras' CSVLogger or fitlab's CSVLogger write it: decimal, nan/NaN, NA or
 * empty (missing), inf/Infinity, -inf/-Infinity. Anything else is undefined (not a number).
 */
function numberCell(text: string): number | undefined {
  const cell = text.trim().toLowerCase();
  if (cell === 'nan' || cell === 'na' || cell === '') return Number.NaN;
  if (cell === 'inf' || cell === '+inf' || cell === 'infinity' || cell === '+infinity') return Infinity;
  if (cell === '-inf' || cell === '-infinity') return -Infinity;
  const v = Number(cell);
  return Number.isNaN(v) ? undefined : v;
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

/** A Keras CSVLogger file → epoch logs. */
export function fromCsv(text: string, where: string): EpochLog[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim());
  if (lines.length < 2) throw new FitlabError(`${where}: a CSVLogger file needs a header and at least one row`);
  const sep = lines[0].includes(';') && !lines[0].includes(',') ? ';' : lines[0].includes('\t') && !lines[0].includes(',') ? '\t' : ',';
  const header = lines[0].split(sep).map((h) => KEY_ALIASES[h.trim()] ?? h.trim());
  if (!header.includes('loss')) throw new FitlabError(`${where}: the CSV header has no "loss" column (columns: ${header.join(', ')})`);
  return lines.slice(1).map((line, r) => {
    const cells = line.split(sep);
    // a ragged row cannot say which value belongs to which column (a missing value is an empty cell)
    if (cells.length !== header.length) {
      throw new FitlabError(`${where}: line ${r + 2} has ${cells.length} cells; the header has ${header.length} columns (${header.join(', ')})`);
    }
    const log: Record<string, number> = {};
    header.forEach((h, i) => {
      const value = numberCell(cells[i]);
      if (value === undefined) throw new FitlabError(`${where}: line ${r + 2}, column "${h}": ${describe(cells[i])} is not a number`);
      checkMetric(h, value, `${where}: line ${r + 2}, column "${h}"`);
      log[h] = value;
    });
    log.epoch = Number.isFinite(log.epoch) ? log.epoch : r;
    log.learning_rate ??= Number.NaN;
    log.penalty ??= Number.NaN;
    log.seconds ??= Number.NaN;
    return log as unknown as EpochLog;
  });
}

export function loadHistory(path: string, classes?: number): LoadedHistory {
  if (!existsSync(path)) throw new FitlabError(`${path} does not exist`, 'pass a run directory, a history.jsonl, a Keras history .json or a CSVLogger .csv');
  if (statSync(path).isDirectory()) {
    const file = join(path, RUN_FILES.history);
    if (!existsSync(file)) throw new FitlabError(`${path} has no ${RUN_FILES.history}`, 'the run may not have finished an epoch yet');
    const config = existsSync(join(path, RUN_FILES.config)) ? readRunConfig(path) : null;
    const context = config ? contextFromRunConfig(config) : {};
    if (classes) context.classes = classes;
    const history = readHistoryFile(file);
    checkJsonlEpochs(history, file);
    if (!history.length) throw new FitlabError(`${file} holds no epochs`, 'the run may not have finished an epoch yet');
    return { history, source: file, kind: 'run', runDir: path, context };
  }
  const text = readFileSync(path, 'utf8');
  const ctx: DiagnoseContext = classes ? { classes } : {};
  const loaded = ((): LoadedHistory => {
    if (/\.csv$/i.test(path)) return { history: fromCsv(text, path), source: path, kind: 'keras-csv', runDir: null, context: ctx };
    if (/\.jsonl$/i.test(path)) {
      const history = readHistoryFile(path);
      checkJsonlEpochs(history, path);
      return { history, source: path, kind: 'jsonl', runDir: null, context: ctx };
    }
    let parsed: unknown;
    try {
      parsed = parsePythonJson(text);
    } catch (err) {
      if (err instanceof FitlabError) throw new FitlabError(`${path}: ${err.message}`);
      // V8 quotes the text around the fault, newlines included: keep the message one line
      throw new FitlabError(`${path} is not valid JSON: ${(err as Error).message.replace(/\s+/g, ' ')}`);
    }
    const obj = (parsed && typeof parsed === 'object' && 'history' in parsed ? parsed.history : parsed) as Record<string, unknown>;
    return { history: fromKerasDict(obj, path), source: path, kind: 'keras-json', runDir: null, context: ctx };
  })();
  if (!loaded.history.length) throw new FitlabError(`${path} holds no epochs`, 'a history needs at least one epoch of numbers');
  return loaded;
}
