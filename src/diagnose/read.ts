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

/** JSON.parse that accepts Python's bare NaN, Infinity and -Infinity (outside strings). */
export function parsePythonJson(text: string): unknown {
  let out = '';
  let inString = false;
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
    const rest = text.slice(i, i + 9);
    if (rest.startsWith('NaN')) { out += '"__NaN__"'; i += 2; continue; }
    if (rest.startsWith('-Infinity')) { out += '"__-Inf__"'; i += 8; continue; }
    if (rest.startsWith('Infinity')) { out += '"__Inf__"'; i += 7; continue; }
    out += ch;
  }
  return JSON.parse(out, (_k, v: unknown) => (v === '__NaN__' ? Number.NaN : v === '__Inf__' ? Infinity : v === '__-Inf__' ? -Infinity : v));
}

/** A Keras history dict of lists → epoch logs. */
export function fromKerasDict(dict: Record<string, unknown>, where: string): EpochLog[] {
  const isDict = dict !== null && typeof dict === 'object' && !Array.isArray(dict);
  const lists = (isDict ? Object.entries(dict).filter(([, v]) => Array.isArray(v)) : []) as [string, unknown[]][];
  if (!lists.length) throw new FitlabError(`${where}: expected a Keras history (a dict of lists such as {"loss": [...], "val_loss": [...]})`);
  const n = Math.max(...lists.map(([, v]) => v.length));
  if (!lists.some(([k]) => k === 'loss')) throw new FitlabError(`${where}: the history has no "loss" list (keys: ${lists.map(([k]) => k).join(', ')})`);
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

/** A Keras CSVLogger file → epoch logs. */
export function fromCsv(text: string, where: string): EpochLog[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim());
  if (lines.length < 2) throw new FitlabError(`${where}: a CSVLogger file needs a header and at least one row`);
  const sep = lines[0].includes(';') && !lines[0].includes(',') ? ';' : lines[0].includes('\t') && !lines[0].includes(',') ? '\t' : ',';
  const header = lines[0].split(sep).map((h) => KEY_ALIASES[h.trim()] ?? h.trim());
  if (!header.includes('loss')) throw new FitlabError(`${where}: the CSV header has no "loss" column (columns: ${header.join(', ')})`);
  return lines.slice(1).map((line, r) => {
    const cells = line.split(sep);
    const log: Record<string, number> = {};
    header.forEach((h, i) => {
      const value = numberCell(cells[i] ?? '');
      if (value === undefined) throw new FitlabError(`${where}: line ${r + 2}, column "${h}": ${describe(cells[i])} is not a number`);
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
    if (!history.length) throw new FitlabError(`${file} holds no epochs`, 'the run may not have finished an epoch yet');
    return { history, source: file, kind: 'run', runDir: path, context };
  }
  const text = readFileSync(path, 'utf8');
  const ctx: DiagnoseContext = classes ? { classes } : {};
  const loaded = ((): LoadedHistory => {
    if (/\.csv$/i.test(path)) return { history: fromCsv(text, path), source: path, kind: 'keras-csv', runDir: null, context: ctx };
    if (/\.jsonl$/i.test(path)) return { history: readHistoryFile(path), source: path, kind: 'jsonl', runDir: null, context: ctx };
    let parsed: unknown;
    try {
      parsed = parsePythonJson(text);
    } catch (err) {
      throw new FitlabError(`${path} is not valid JSON: ${(err as Error).message}`);
    }
    const obj = (parsed && typeof parsed === 'object' && 'history' in parsed ? parsed.history : parsed) as Record<string, unknown>;
    return { history: fromKerasDict(obj, path), source: path, kind: 'keras-json', runDir: null, context: ctx };
  })();
  if (!loaded.history.length) throw new FitlabError(`${path} holds no epochs`, 'a history needs at least one epoch of numbers');
  return loaded;
}
