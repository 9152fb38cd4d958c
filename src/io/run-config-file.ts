/**
 * Reading a run directory's config.json from disk (Node only): the file part of the run
 * contract, kept apart from src/io/run-config.ts so that the contract's field table and parser
 * import nothing from Node and bundle for a browser (the static site's worker checks the New
 * run form with them).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FitlabError } from '../errors.js';
import { RUN_CONFIG_FILE, type RunConfigFile, parseRunConfigFile } from './run-config.js';

/** Read `dir`/config.json (a run directory's), typed; a missing or unreadable file is a one-line error naming it. */
export function readRunConfigFile(dir: string): RunConfigFile {
  const file = join(dir, RUN_CONFIG_FILE);
  if (!existsSync(file)) throw new FitlabError(`${dir} is not a fitlab run directory (no ${RUN_CONFIG_FILE})`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (err) {
    throw new FitlabError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  return parseRunConfigFile(raw, file);
}
