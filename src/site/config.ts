/**
 * The static site's "start a run" body → a checked TrainRunConfig, by the run contract's field
 * table (io/run-config: the same fields, ranges and messages as `fitlab train` and the
 * dashboard server), for the datasets a page has: the built-in sets, the user's files, and the
 * sets beside the page (data/index.json). The body is read by serve/start-body, as the server
 * reads it; the server then plans the run with Node's help, this checks the run's fields together.
 */
import { SYNTHETIC_2D, SYNTHETIC_IMAGES } from '../data/synthetic.js';
import { type TrainRunConfig, checkRunConfig, runField } from '../io/run-config.js';
import { startBodyToConfig } from '../serve/start-body.js';

/** The dataset name the New run form gives files the user picked. */
export const FILES_DATASET = 'your files';

/** Built-in datasets: the 2-D sets and shapes. */
export const BUILTIN_DATASETS: readonly string[] = [...SYNTHETIC_2D, SYNTHETIC_IMAGES];

/**
 * Check a start body against the datasets this page has (`datasets`), as the dashboard server
 * reads its form (serve/start-body), then the run's cross-field checks; throws one ArgumentError line.
 */
export function parseSiteRun(raw: unknown, datasets: readonly string[]): TrainRunConfig {
  return checkRunConfig(startBodyToConfig(raw, datasets), 'key');
}

/** The table's default of a field. */
export const defaultOf = <T>(key: string): T => runField(key).default as T;
