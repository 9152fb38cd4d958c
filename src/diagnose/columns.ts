/**
 * Which column of a training log is the training loss, the validation loss, the accuracies, the
 * learning rate and the epoch: names are matched ignoring case, spaces, underscores and dashes,
 * against what Keras, TF.js, PyTorch Lightning, fastai, Hugging Face and people write. A column
 * no rule claims is kept under its own name and never read as one of these.
 */
import { ArgumentError } from '../errors.js';
import type { Table } from './formats.js';

export type Role = 'loss' | 'val_loss' | 'accuracy' | 'val_accuracy' | 'learning_rate' | 'seconds' | 'epoch';

/** Columns named by hand: `--loss COL --val-loss COL --acc COL --val-acc COL`. */
export interface ManualColumns {
  loss?: string;
  valLoss?: string;
  acc?: string;
  valAcc?: string;
}

export interface ColumnMap {
  /** role → column index */
  roles: Partial<Record<Role, number>>;
  /** roles whose column is an error rate (accuracy = 1 − error) */
  errorRate: Set<Role>;
  /** columns not read at all: an index, Lightning's per-step columns, `step` */
  ignored: number[];
  notes: string[];
  fastai: boolean;
}

/** Lowercase without spaces, underscores, dashes, dots and colons: "Train Loss" → "trainloss". */
export const normName = (name: string): string => name.toLowerCase().replace(/[\s_\-.:]+/g, '');

/**
 * Accepted names per role, normalized, in order of preference. Lightning's `_epoch` suffix
 * (train_loss_epoch, acc_epoch) is stripped before matching, and its `_step` columns ignored.
 */
export const ACCEPTED: Record<Role, string[]> = {
  loss: ['loss', 'trainloss', 'trainingloss'],
  val_loss: ['valloss', 'validloss', 'validationloss', 'evalloss'],
  accuracy: ['accuracy', 'acc', 'trainaccuracy', 'trainacc', 'trainingaccuracy', 'trainingacc', 'categoricalaccuracy', 'sparsecategoricalaccuracy', 'binaryaccuracy'],
  val_accuracy: ['valaccuracy', 'valacc', 'validaccuracy', 'validacc', 'validationaccuracy', 'validationacc', 'evalaccuracy', 'evalacc', 'valcategoricalaccuracy', 'valsparsecategoricalaccuracy', 'valbinaryaccuracy'],
  learning_rate: ['learningrate', 'lr'],
  seconds: ['seconds', 'time', 'epochtime'],
  epoch: ['epoch', 'epochs'],
};
const ERROR_RATE: Partial<Record<Role, string[]>> = { accuracy: ['errorrate', 'error', 'trainerrorrate', 'trainerror'], val_accuracy: ['valerrorrate', 'validerrorrate', 'validationerrorrate', 'valerror', 'evalerrorrate'] };
/** A test split logged every epoch is the held-out curve when no validation is logged. */
const TEST_AS_VAL: Partial<Record<Role, string[]>> = { val_loss: ['testloss'], val_accuracy: ['testaccuracy', 'testacc'] };

/** The accepted names for messages: the spellings people write, not the normalized keys. */
export const ACCEPTED_TEXT = 'training loss: loss, train_loss, training_loss, "Train Loss", train_loss_epoch; validation loss: val_loss, valid_loss, validation_loss, eval_loss (test_loss without validation); accuracy: accuracy, acc, train_acc, categorical_accuracy, sparse_categorical_accuracy, binary_accuracy, error_rate (and val_/valid_/validation_/eval_ forms)';

interface Key { norm: string; epochLevel: boolean }

function keyOf(name: string): Key | null {
  const lower = name.trim().toLowerCase();
  if (lower !== 'step' && /[_\s]step$/.test(lower)) return null;
  const epochLevel = lower !== 'epoch' && /[_\s]epoch$/.test(lower);
  return { norm: normName(epochLevel ? lower.replace(/[_\s]epoch$/, '') : lower), epochLevel };
}

/** The first column (epoch-level first) whose name is one of `names`, not taken yet. */
function pick(keys: (Key | null)[], names: string[], taken: Set<number>): number | undefined {
  for (const n of names) {
    const hits = keys.map((k, i) => (k && k.norm === n && !taken.has(i) ? i : -1)).filter((i) => i >= 0);
    if (hits.length) return hits.find((i) => keys[i]?.epochLevel) ?? hits[0];
  }
  return undefined;
}

function findManual(table: Table, flag: string, name: string): number {
  const exact = table.names.indexOf(name);
  if (exact >= 0) return exact;
  const loose = table.names.findIndex((n) => normName(n) === normName(name));
  if (loose >= 0) return loose;
  const shown = table.names.slice(0, 30).join(', ') + (table.names.length > 30 ? `, … (${table.names.length - 30} more)` : '');
  throw new ArgumentError(`${flag} ${JSON.stringify(name)}: no such column (columns: ${shown})`);
}

export function mapColumns(table: Table, manual: ManualColumns = {}): ColumnMap {
  const keys = table.names.map(keyOf);
  const roles: Partial<Record<Role, number>> = {};
  const taken = new Set<number>();
  const notes: string[] = [];
  const errorRate = new Set<Role>();
  const ignored: number[] = [];
  // a pandas index: an unnamed first column
  const first = normName(table.names[0] ?? 'x');
  if (first === '' || first === 'unnamed0' || first === 'index') {
    ignored.push(0);
    taken.add(0);
  }
  keys.forEach((k, i) => {
    if (!k || k.norm === 'step') {
      ignored.push(i);
      taken.add(i);
    }
  });
  const manualRoles: [Role, string, string | undefined][] = [['loss', '--loss', manual.loss], ['val_loss', '--val-loss', manual.valLoss], ['accuracy', '--acc', manual.acc], ['val_accuracy', '--val-acc', manual.valAcc]];
  for (const [role, flag, name] of manualRoles) {
    if (name === undefined) continue;
    const i = findManual(table, flag, name);
    roles[role] = i;
    taken.add(i);
  }
  const claim = (role: Role, names: string[]): boolean => {
    if (roles[role] !== undefined) return false;
    const i = pick(keys, names, taken);
    if (i === undefined) return false;
    roles[role] = i;
    taken.add(i);
    return true;
  };
  for (const role of Object.keys(ACCEPTED) as Role[]) claim(role, ACCEPTED[role]);
  for (const role of ['accuracy', 'val_accuracy'] as const) if (claim(role, ERROR_RATE[role] ?? [])) errorRate.add(role);
  if (roles.val_loss === undefined && roles.val_accuracy === undefined) {
    for (const role of ['val_loss', 'val_accuracy'] as const) {
      if (claim(role, TEST_AS_VAL[role] ?? [])) notes.push(`no validation column: the per-epoch test column "${table.names[roles[role] as number]}" is read as ${role}`);
    }
  }
  // fastai computes its metrics (accuracy, error_rate) on the validation set: with train_loss
  // and valid_loss beside them, a bare accuracy is the validation accuracy
  const layout = roles.loss !== undefined && keys[roles.loss]?.norm === 'trainloss' && roles.val_loss !== undefined && keys[roles.val_loss]?.norm === 'validloss';
  const bareMetric = roles.val_accuracy === undefined && roles.accuracy !== undefined && ['accuracy', 'acc', 'errorrate', 'error'].includes(keys[roles.accuracy]?.norm ?? '');
  const fastai = layout && (bareMetric || keys.some((k) => k?.norm === 'time'));
  if (layout && bareMetric && roles.accuracy !== undefined) {
    roles.val_accuracy = roles.accuracy;
    delete roles.accuracy;
    if (errorRate.delete('accuracy')) errorRate.add('val_accuracy');
    notes.push(`fastai layout: "${table.names[roles.val_accuracy]}" is a validation metric, read as val_accuracy`);
  }
  suffixAccuracy(keys, roles, taken);
  return { roles, errorRate, ignored, notes, fastai };
}

/**
 * A Keras model with named outputs logs `out_caps_acc` / `val_out_caps_acc`: when no accuracy was
 * found, a single column ending in acc/accuracy (and its val_ twin) is the accuracy.
 */
function suffixAccuracy(keys: (Key | null)[], roles: Partial<Record<Role, number>>, taken: Set<number>): void {
  const candidates = (val: boolean): number[] => keys
    .map((k, i) => (k && !taken.has(i) && /(acc|accuracy)$/.test(k.norm) && !k.norm.includes('top') && k.norm.startsWith('val') === val ? i : -1))
    .filter((i) => i >= 0);
  for (const [role, val] of [['accuracy', false], ['val_accuracy', true]] as const) {
    if (roles[role] !== undefined) continue;
    const c = candidates(val);
    if (c.length === 1) {
      roles[role] = c[0];
      taken.add(c[0]);
    }
  }
}
