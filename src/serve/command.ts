/**
 * The `fitlab train` command line equivalent to a run started from the page. The flags come
 * from the run contract's field table (src/io/run-config.ts: runConfigArgs), so every field the
 * page can set — and every other field of the config — is shown as the command line spells it.
 * The signature is stable (the page's New-run tab shows what /api/command returns).
 */
import { type TrainRunConfig, runCommandLine } from '../io/run-config.js';

/** A shell command that starts the same run (an inline model spec is shown as <name>.json). */
export function trainCommand(c: Partial<TrainRunConfig>): string {
  return runCommandLine(c);
}
