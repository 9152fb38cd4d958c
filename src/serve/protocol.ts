/**
 * What travels between the training worker, the server and the page. Types only: the page's
 * bundle imports them too (web/src), so nothing here may touch Node.
 */

/** The knobs a viewer can turn while a run trains. */
export interface Knobs {
  learningRate: number;
  /** SGD/RMSprop momentum, Adam's beta1; null when the optimizer has none */
  momentum: number | null;
  batchSize: number;
  weightDecay: number;
  /** λ of the L2 kernel regularizer (0: none) */
  l2: number;
  /** rate of every Dropout layer; null when the model has none */
  dropout: number | null;
}

export type KnobName = keyof Knobs;
export const KNOB_NAMES: readonly KnobName[] = ['learningRate', 'momentum', 'batchSize', 'weightDecay', 'l2', 'dropout'];

export type Action = 'pause' | 'resume' | 'stop' | 'snapshot';
export const ACTIONS: readonly Action[] = ['pause', 'resume', 'stop', 'snapshot'];

/** One entry of the run's knobs.jsonl: a knob change or a pause/resume/stop/snapshot. */
export interface KnobEvent {
  time: string;
  /** 0-based epoch and batch after which it was applied */
  epoch: number;
  batch: number;
  examples: number;
  knob?: KnobName;
  from?: number | null;
  to?: number;
  action?: Action;
  /** 'next batch', or 'next epoch' for the batch size; a snapshot's directory */
  note?: string;
}

/** A point of the live curves: sent every batch, at most every 50 ms. */
export interface BatchPoint {
  epoch: number;
  /** 0-based batch inside the epoch, and how many the epoch has */
  batch: number;
  batches: number;
  epochs: number;
  /** examples seen since the run started */
  examples: number;
  /** mean loss (penalty included) of the batches since the previous point */
  loss: number;
  /** running mean of the epoch so far */
  epochLoss: number;
  accuracy: number | null;
  /** L2/weight regularization penalty at this step */
  penalty: number;
  learningRate: number;
  /** milliseconds per example, training forward and backward (measured in the worker) */
  forwardMs: number;
  backwardMs: number;
  /** seconds since the run started (pauses excluded), and estimated seconds to the end */
  seconds: number;
  eta: number | null;
}

export interface DiagnosisMarks {
  regime: string;
  summary: string;
  /** epochs counted from 1, as Keras prints them and the diagnosis text says */
  onsetEpoch: number | null;
  bestEpoch: number | null;
}

export interface Histogram {
  min: number;
  max: number;
  /** counts in equal bins from min to max */
  bins: number[];
}

export interface LayerView {
  name: string;
  className: string;
  outputShape: number[];
  params: number;
  /** over the last training batch's output */
  activation: Histogram | null;
  /** over the gradients of the layer's weights at the last step */
  gradient: Histogram | null;
}

/** A grayscale picture: bytes 0–255, row-major h × w (or h × w × 3 when rgb). */
export interface Picture {
  w: number;
  h: number;
  rgb: boolean;
  data: number[];
  label?: string;
}

export interface NetworkView {
  step: number;
  epoch: number;
  /** steps since the previous probe (spaced so probing costs < 1.5% of the training time) */
  every: number;
  /** cost of this probe and of a training step, in milliseconds */
  probeMs: number;
  stepMs: number;
  /** seconds spent probing (network and predictions) / seconds training, since the run started */
  overhead: number;
  layers: LayerView[];
  /** validation example whose feature maps are shown */
  input: number;
  inputPicture: Picture | null;
  featureMaps: { layer: string; maps: Picture[] }[];
  filters: { layer: string; maps: Picture[] } | null;
}

export interface PredictionsView {
  epoch: number;
  classNames: string[];
  /** the first validation (or test) examples */
  items: { index: number; actual: number; predicted: number; probs: number[]; picture: Picture | null; point: [number, number] | null }[];
  /** confusion[actual][predicted] over up to 2,000 validation examples */
  confusion: number[][];
  counted: number;
  /** 2-D data: argmax class and its probability on a grid over the data's bounds */
  boundary: { x0: number; x1: number; y0: number; y1: number; size: number; cls: number[]; conf: number[]; train: [number, number, number][]; test: [number, number, number][] } | null;
}

export interface RunInfo {
  id: string;
  runDir: string;
  model: string;
  dataset: string;
  classes: number;
  classNames: string[];
  shape: number[];
  params: number;
  epochs: number;
  optimizer: string;
  knobs: Knobs;
  /** the equivalent `fitlab train` command */
  command: string;
}

export type RunStatus = 'starting' | 'running' | 'paused' | 'stopping' | 'finished' | 'stopped' | 'failed';

/** Messages from the training worker to the server. */
export type WorkerMessage =
  | { type: 'started'; info: RunInfo }
  | { type: 'batch'; point: BatchPoint }
  | { type: 'epoch'; log: Record<string, number | undefined>; diagnosis: DiagnosisMarks | null }
  | { type: 'knob'; event: KnobEvent; knobs: Knobs }
  | { type: 'status'; status: RunStatus }
  | { type: 'network'; view: NetworkView }
  | { type: 'predictions'; view: PredictionsView }
  | { type: 'log'; line: string }
  | { type: 'reject'; message: string }
  | { type: 'done'; status: RunStatus; summary: Record<string, unknown> }
  | { type: 'error'; message: string; hint: string | null; user: boolean };

/** Messages from the server to the training worker. */
export type WorkerCommand =
  | { type: 'set'; knobs: Partial<Knobs> }
  | { type: 'action'; action: Action }
  | { type: 'probe'; what: 'network' | 'predictions'; input?: number };

/** Everything a viewer needs about a live run (sent when a page connects). */
export interface LiveState {
  info: RunInfo | null;
  status: RunStatus;
  points: BatchPoint[];
  epochs: Record<string, number | undefined>[];
  events: KnobEvent[];
  diagnosis: DiagnosisMarks | null;
  network: NetworkView | null;
  predictions: PredictionsView | null;
  log: string[];
  error: string | null;
}
