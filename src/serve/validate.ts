/**
 * Request bodies, checked field by field before anything acts on them (no eval, nothing
 * passed through unread): unknown keys, wrong types and out-of-range values are refused with
 * an ArgumentError naming the field, which the server turns into a 400.
 */
import { AUGMENT_PRESETS } from '../data/augment.js';
import { SYNTHETIC_2D, SYNTHETIC_IMAGES } from '../data/synthetic.js';
import { ArgumentError, describe } from '../errors.js';
import { type TrainRunConfig, runField } from '../io/run-config.js';
import { planRun } from '../run/train-run.js';
import { checkKnob } from './knobs.js';
import { ACTIONS, type Action, KNOB_NAMES, type Knobs } from './protocol.js';
import { bodyObject, choice, onlyKeys, startBodyToConfig } from './start-body.js';

export const DATASETS = ['mnist', 'fashion-mnist', 'cifar10', ...SYNTHETIC_2D, SYNTHETIC_IMAGES];
const optimizerType = runField('optimizer').type;
export const OPTIMIZERS = optimizerType.kind === 'named-or-object' ? [...optimizerType.names] : [];
export const AUGMENTS = ['none', 'auto', ...Object.keys(AUGMENT_PRESETS)];

type Body = Record<string, unknown>;

function num(body: Body, key: string, o: { min: number; max: number; int?: boolean }): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < o.min || v > o.max || (o.int && !Number.isInteger(v))) {
    throw new ArgumentError(`${key} must be ${o.int ? 'an integer' : 'a number'} in [${o.min}, ${o.max}]; received ${describe(v)}`);
  }
  return v;
}


/**
 * A "start a run" body → the TrainRunConfig the CLI would build (runs go under `out`): each
 * field checked by the run contract's table, then the run's own plan (the same checks
 * `fitlab train` makes before it loads anything). The page names built-in datasets and presets
 * only: a path sent by a web page is never opened.
 */
export function parseStartRun(raw: unknown, out: string): TrainRunConfig {
  const config = startBodyToConfig(raw, DATASETS);
  config.out = out;
  planRun(config, 'key');
  return config;
}

export type ControlRequest = { set: Partial<Knobs> } | { action: Action } | { probe: 'network' | 'predictions'; input?: number };

/** A control body: {"set": {"learningRate": 0.01}}, {"action": "pause"} or {"probe": "network", "input": 3}. */
export function parseControl(raw: unknown): ControlRequest {
  const body = bodyObject(raw, 'the request body');
  const keys = Object.keys(body);
  if (keys.includes('set')) {
    onlyKeys(body, ['set'], 'control');
    const set = bodyObject(body.set, 'set');
    if (!Object.keys(set).length) throw new ArgumentError(`set needs at least one knob: ${KNOB_NAMES.join(', ')}`);
    const knobs: Partial<Knobs> = {};
    for (const [k, v] of Object.entries(set)) (knobs as Record<string, number>)[k] = checkKnob(k, v);
    return { set: knobs };
  }
  if (keys.includes('action')) {
    onlyKeys(body, ['action'], 'control');
    return { action: choice(body, 'action', ACTIONS) as Action };
  }
  if (keys.includes('probe')) {
    onlyKeys(body, ['probe', 'input'], 'control');
    const probe = choice(body, 'probe', ['network', 'predictions']) as 'network' | 'predictions';
    const input = num(body, 'input', { min: 0, max: 1_000_000, int: true });
    return input === undefined ? { probe } : { probe, input };
  }
  throw new ArgumentError('a control body needs "set", "action" or "probe"', 'e.g. {"set": {"learningRate": 0.01}} or {"action": "pause"}');
}
