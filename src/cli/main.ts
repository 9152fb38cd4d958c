/**
 * The `fitlab` command line. User errors print one clear message (and a hint) without a stack
 * trace; only unexpected internal errors show one.
 */
import { Command, CommanderError } from 'commander';
import { FitlabError } from '../errors.js';
import { writeCause } from '../io/write-error.js';
import { packageVersion } from '../util/paths.js';
import { registerBench } from './bench.js';
import { guardOutputStreams } from './common.js';
import { registerCompare } from './compare.js';
import { registerData } from './data.js';
import { registerDemo } from './demo.js';
import { registerDiagnose } from './diagnose.js';
import { registerExperiment } from './experiment.js';
import { registerModelCommands } from './models.js';
import { registerServe } from './serve.js';
import { registerSite } from './site.js';
import { registerTrain } from './train.js';
import { registerQueue } from './queue.js';
import { registerWorker } from './worker.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('fitlab')
    .description('See, measure and fight overfitting in image classifiers.')
    .version(packageVersion(), '-v, --version')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ outputError: (text, write) => write(text) })
    .exitOverride();
  registerTrain(program);
  registerModelCommands(program);
  registerBench(program);
  registerDemo(program);
  registerDiagnose(program);
  registerCompare(program);
  registerData(program);
  registerExperiment(program);
  registerServe(program);
  registerSite(program);
  registerWorker(program);
  registerQueue(program);
  return program;
}

function printError(err: unknown): number {
  if (err instanceof CommanderError) {
    // commander already printed its message (and help when asked for)
    return err.exitCode === 0 ? 0 : 2;
  }
  if (err instanceof FitlabError) {
    process.stderr.write(`fitlab: error: ${err.message}\n`);
    if (err.hint) process.stderr.write(`fitlab: hint: ${err.hint}\n`);
    return 1;
  }
  const e = err as Error;
  const diskCause = writeCause((e as NodeJS.ErrnoException | null)?.code);
  if (diskCause) {
    // a full disk, a quota, a read-only mount or no permission met by a writer that did not
    // say which file (a bare writeFileSync): still one line, never a stack trace
    const path = (e as NodeJS.ErrnoException).path;
    process.stderr.write(`fitlab: error: ${path ? `cannot write ${path}` : 'a write failed'}: ${diskCause}\n`);
    return 1;
  }
  if (e && (e as NodeJS.ErrnoException).code && typeof (e as NodeJS.ErrnoException).path === 'string') {
    // file-system errors caused by the user's paths
    process.stderr.write(`fitlab: error: ${e.message}\n`);
    return 1;
  }
  process.stderr.write(`fitlab: internal error (this is a bug in fitlab; please report it):\n${e?.stack ?? String(err)}\n`);
  return 70;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  // before anything prints: a closed pipe must not kill a command half-way (common.ts)
  guardOutputStreams();
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return printError(err);
  }
}
