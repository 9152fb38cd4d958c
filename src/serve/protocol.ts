/**
 * What travels between the training worker, the server and the page: the shapes, and the one
 * pure fold of worker messages into a run's state that the server's session and the page's
 * store both use. The page's bundle imports this file too (web/src), so nothing here may touch
 * Node: types and pure functions only.
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

/** Where a view of a finished run came from (absent for a live run's views). */
export interface SavedSource {
  /** the saved model: 'best', 'final', 'initial' or 'snapshot:<folder>' */
  model: string;
  /** examples in the probe batch (network) or predicted (predictions) */
  examples: number;
  /** milliseconds the inspection worker took (data and model loading included) */
  ms: number;
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
  /** a finished run's view, computed from a saved model on a probe batch */
  saved?: SavedSource;
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
  /** a finished run's view, computed from a saved model */
  saved?: SavedSource;
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

/** Log lines kept per run, on the server and in the page alike. */
export const MAX_LOG = 200;

export function emptyLiveState(): LiveState {
  return { info: null, status: 'starting', points: [], epochs: [], events: [], diagnosis: null, network: null, predictions: null, log: [], error: null };
}

/**
 * Fold one worker message into a run's state: the server's session does it as the worker
 * posts, the page as the same messages arrive by SSE, so a page that connected late (its hello
 * snapshot is the server's state) and one that watched from the start show the same thing.
 * `addPoint` decides what happens to a batch point (the server thins long runs; the page keeps all).
 */
export function foldEvent(s: LiveState, m: WorkerMessage, addPoint: (s: LiveState, p: BatchPoint) => void = (st, p) => st.points.push(p)): void {
  switch (m.type) {
    case 'started': s.info = m.info; break;
    case 'batch': addPoint(s, m.point); break;
    case 'epoch':
      s.epochs.push(m.log);
      s.diagnosis = m.diagnosis ?? s.diagnosis;
      break;
    case 'knob':
      s.events.push(m.event);
      if (s.info) s.info.knobs = m.knobs;
      break;
    case 'status': s.status = m.status; break;
    case 'network': s.network = m.view; break;
    case 'predictions': s.predictions = m.view; break;
    case 'log':
      s.log.push(m.line);
      if (s.log.length > MAX_LOG) s.log.shift();
      break;
    case 'reject': break;
    case 'done': {
      s.status = m.status;
      const d = m.summary.diagnosis as DiagnosisMarks | null | undefined;
      if (d) s.diagnosis = d;
      break;
    }
    case 'error':
      s.status = 'failed';
      s.error = m.message;
      break;
  }
}

/** The statuses of a run that is training (or about to, or stopping): only these take /control. */
export const ACTIVE_STATUSES: readonly RunStatus[] = ['starting', 'running', 'paused', 'stopping'];
export const isActiveStatus = (status: RunStatus | null | undefined): boolean => !!status && ACTIVE_STATUSES.includes(status);

/** One line of the Runs table (GET /api/runs), read from a run directory. */
export interface RunRow {
  id: string;
  /** config.json's creation time (ISO), null when unreadable */
  created: string | null;
  model: string;
  dataset: string;
  params: number | null;
  epochs: number;
  epochsAsked: number | null;
  regime: string | null;
  /** epochs counted from 1 (older diagnosis.json files counted from 0: runs.ts converts) */
  onsetEpoch: number | null;
  bestEpoch: number | null;
  final: { loss: number | null; accuracy: number | null; valLoss: number | null; valAccuracy: number | null } | null;
  test: { loss: number; accuracy: number } | null;
  report: boolean;
  /** the live status when the run trains in this dashboard (GET /api/runs adds it) */
  status?: RunStatus | null;
  error?: string;
}

/** A saved model of a run the Network and Predictions views can be computed from. */
export interface SavedModel {
  /** what GET /api/runs/<id>/inspect takes as ?model= */
  id: string;
  label: string;
}

/** An epoch's log as the page receives it (non-finite numbers arrive as null). */
export type HistoryRow = Record<string, number | null>;

/** One run for the page (GET /api/runs/<id>): its row, config, full history, knob events, models. */
export interface RunDetail extends RunRow {
  config: Record<string, unknown> | null;
  history: HistoryRow[];
  /** diagnosis.json as written (its epochs may be 0-based in old files: use the row's) */
  diagnosis: Record<string, unknown> | null;
  events: KnobEvent[];
  models: SavedModel[];
  /** the live state when the run trains (or trained) in this dashboard */
  live: LiveState | null;
}

/** An experiment folder (GET /api/experiments). */
export interface ExperimentRow {
  id: string;
  title: string;
  /** experiment.json's table, when it has the shape { header: string[], rows: cell[][] } */
  table: { header: string[]; rows: unknown[][] } | null;
  conclusions: string[];
  report: boolean;
  error?: string;
}

/** What the New run form may choose from (GET /api/options). */
export interface DashboardOptions {
  presets: string[];
  datasets: string[];
  optimizers: string[];
  augments: string[];
  runsDir: string;
  experimentsDir: string;
}

/** GET /api/runs/<id>/inspect?view=…&model=…&input=…: a view of a finished run. */
export type InspectView = 'network' | 'predictions';
export const INSPECT_VIEWS: readonly InspectView[] = ['network', 'predictions'];

/**
 * The static site (`fitlab site`): the page's in-page session (web/src/site) and its training
 * Web Worker (src/site/worker.ts) talk with these. A request carries a number `re`; the worker
 * answers it with one SiteReply; WorkerMessages of a run flow as they do from the Node worker.
 */
export interface SiteFile {
  name: string;
  bytes: Uint8Array;
}

/** Where a run's data comes from: built in, the user's files, or URLs beside the page (data/index.json). */
export type SiteData = { kind: 'builtin' } | { kind: 'files'; files: SiteFile[] } | { kind: 'url'; entry: SiteDataEntry };

/** One dataset of the site's data/index.json (written by `fitlab site --with-data`). */
export interface SiteDataEntry {
  name: string;
  format: 'idx';
  /** file names relative to data/index.json: training images and labels, test images and labels */
  files: { trainImages: string; trainLabels: string; testImages?: string; testLabels?: string };
  train: number;
  test: number;
}

export type SiteRequest =
  | { re: number; type: 'options' }
  | { re: number; type: 'command'; body: Record<string, unknown> }
  | { re: number; type: 'start'; id: string; body: Record<string, unknown>; data: SiteData }
  | { re: number; type: 'control'; command: WorkerCommand }
  | { re: number; type: 'inspect'; view: InspectView; input?: number }
  | { re: number; type: 'download'; what: SiteDownload };

export type SiteDownload = 'model' | 'history.csv' | 'history.json' | 'report';

/** A file the worker made for the user to save. */
export interface SiteArtifact {
  name: string;
  type: string;
  bytes: Uint8Array;
}

export type SiteReply =
  | { type: 'reply'; re: number; ok: true; value: unknown }
  | { type: 'reply'; re: number; ok: false; error: string };

/** The headers a host must send for the site's page to be cross-origin isolated (threads); `fitlab site` prints them, the page states them. */
export const ISOLATION_HEADERS: readonly string[] = ['Cross-Origin-Opener-Policy: same-origin', 'Cross-Origin-Embedder-Policy: require-corp'];

/** What the site's worker says about the backend it trains on (shown in the page). */
export interface SiteOptions extends DashboardOptions {
  backend: string;
  threads: number;
  /** why this many threads (the backend's own sentence: isolation, SharedArrayBuffer, a threaded module) */
  reason: string;
}
