/**
 * The `fitlab` command line, spawned as a user runs it (node bin/fitlab.js, project root, small
 * built-in data, --out in a temporary folder): help for every command, the JSON contracts of
 * train / evaluate / predict / summary / export / diagnose checked against each other and
 * against the run's files, user errors without stack traces, Ctrl-C and resume, and the demo.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthetic2d } from '../../src/data/synthetic.js';
import type { EpochLog } from '../../src/train/history.js';
import { BIN, type CliResult, ROOT, STACK_FRAME, ensureBuilt, fitlab, jsonOf, shards } from './cli-helpers.js';

let tmp = '';
beforeAll(() => {
  ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'fitlab-cli-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function historyOf(runDir: string): EpochLog[] {
  return readFileSync(join(runDir, 'history.jsonl'), 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l) as EpochLog);
}

const timeless = (h: EpochLog[]): EpochLog[] => h.map((e) => ({ ...e, seconds: 0 }));

describe('--help', () => {
  // every option the README documents, per command
  const commands: Record<string, string[]> = {
    train: ['--model', '--dataset', '--data-dir', '--epochs', '--batch-size', '--optimizer', '--lr', '--loss', '--seed', '--threads', '--backend', '--val',
      '--early-stopping', '--monitor', '--checkpoint', '--no-shuffle', '--out', '--name', '--input', '--classes', '--class-weight', '--resume', '--quiet', '--json'],
    evaluate: ['--dataset', '--data-dir', '--split', '--which', '--batch-size', '--threads', '--backend', '--json'],
    predict: ['--dataset', '--split', '--which', '--limit', '--json'],
    summary: ['--model', '--input', '--classes', '--json'],
    export: ['--format', '--out', '--which'],
    diagnose: ['--classes', '--json', '--no-chart'],
    demo: ['--out', '--epochs', '--seed', '--threads', '--json'],
    bench: ['--model', '--threads', '--steps', '--no-gemm', '--no-pytorch', '--json'],
  };

  it('fitlab --help lists every command', () => {
    const r = fitlab(['--help']);
    expect(r.status).toBe(0);
    for (const name of Object.keys(commands)) expect(r.stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
  });

  for (const [name, options] of Object.entries(commands)) {
    it(`fitlab ${name} --help exits 0 and mentions ${options.join(' ')}`, () => {
      const r = fitlab([name, '--help']);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(`Usage: fitlab ${name}`);
      for (const option of options) expect(r.stdout).toMatch(new RegExp(`^\\s+${option}\\b`, 'm'));
    });
  }
});

describe('a trained run and the commands that read it', () => {
  interface TrainJson {
    runDir: string; epochsRun: number; bestEpoch: number; final: EpochLog; best: EpochLog;
    test: { loss: number; accuracy: number }; wallSeconds: number; epochSeconds: number; stopReason: string | null; interrupted: boolean;
    diagnosis: { regime: string; onsetEpoch: number | null; bestEpoch: number; summary: string };
  }
  let train: CliResult;
  let run: TrainJson;
  beforeAll(() => {
    train = fitlab(['train', '--model', 'paper-mlp', '--dataset', 'spirals', '--epochs', '4', '--out', join(tmp, 'runs'), '--json']);
    run = jsonOf<TrainJson>(train);
  });

  it('train --json prints one JSON object on stdout (progress on stderr) that agrees with the run directory', () => {
    expect(Object.keys(run)).toEqual(expect.arrayContaining(['runDir', 'epochsRun', 'bestEpoch', 'final', 'best', 'test', 'wallSeconds', 'diagnosis']));
    expect(train.stderr).toContain('Epoch 4/4');
    expect(train.stdout).not.toContain('Epoch 1/4');
    expect(run.runDir.startsWith(join(tmp, 'runs'))).toBe(true);
    expect(existsSync(join(run.runDir, 'model-final', 'model.json'))).toBe(true);
    expect(run.epochsRun).toBe(4);
    expect([run.stopReason, run.interrupted]).toEqual([null, false]);
    const history = historyOf(run.runDir);
    expect(history).toHaveLength(4);
    expect(run.final).toEqual(history[3]);
    const best = history.reduce((a, b) => ((b.val_loss as number) < (a.val_loss as number) ? b : a));
    // 1-based, as the text says it (the history's epoch field counts from 0)
    expect(run.bestEpoch).toBe(best.epoch + 1);
    expect(run.best).toEqual(best);
    expect(run.test.accuracy).toBeGreaterThanOrEqual(0);
    expect(run.test.accuracy).toBeLessThanOrEqual(1);
    expect(run.test.loss).toBeGreaterThan(0);
    expect(run.wallSeconds).toBeGreaterThan(0);
    expect(run.wallSeconds * 1000).toBeLessThan(train.ms);
    expect(run.diagnosis.bestEpoch).toBe(best.epoch + 1);
    expect(typeof run.diagnosis.regime).toBe('string');
    expect(run.diagnosis.summary.length).toBeGreaterThan(20);
  });

  it('evaluate <run> --json prints {loss, accuracy}: the test numbers train reported', () => {
    const ev = jsonOf<{ loss: number; accuracy: number; examples: number; split: string }>(fitlab(['evaluate', run.runDir, '--json']));
    expect(ev).toMatchObject({ examples: 200, split: 'test' });
    expect(ev.loss).toBeCloseTo(run.test.loss, 6);
    expect(ev.accuracy).toBe(run.test.accuracy);
    // the validation split is rebuilt from the run's config: the final val_loss again
    const val = jsonOf<{ loss: number; accuracy: number; examples: number }>(fitlab(['evaluate', run.runDir, '--split', 'val', '--json']));
    expect(val.examples).toBe(20);
    expect(val.loss).toBeCloseTo(run.final.val_loss as number, 6);
    expect(val.accuracy).toBe(run.final.val_accuracy);
  });

  it('predict <run> lists predictions of the test examples with a confusion matrix', () => {
    const p = jsonOf<{ examples: number; accuracy: number; predictions: { index: number; actual: number; predicted: number; confidence: number }[]; confusionMatrix: number[][] }>(
      fitlab(['predict', run.runDir, '--limit', '5', '--json']),
    );
    const test = synthetic2d('spirals').test as { y: Int32Array };
    expect(p.examples).toBe(200);
    expect(p.accuracy).toBe(run.test.accuracy);
    expect(p.predictions.map((q) => q.index)).toEqual([0, 1, 2, 3, 4]);
    expect(p.predictions.map((q) => q.actual)).toEqual(Array.from(test.y.subarray(0, 5)));
    for (const q of p.predictions) expect(q.confidence).toBeGreaterThanOrEqual(0.5); // the top class of two
    const cm = p.confusionMatrix;
    expect(cm.flat().reduce((a, b) => a + b, 0)).toBe(200);
    expect((cm[0][0] + cm[1][1]) / 200).toBe(p.accuracy);
    const text = fitlab(['predict', run.runDir, '--limit', '3']);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain('confusion matrix');
    expect(text.stdout.match(/^ {2}#\d+: actual/gm)).toHaveLength(3);
  });

  it('export --format tfjs --out writes model.json and the same weights as model-final', () => {
    const out = join(tmp, 'exported');
    const r = fitlab(['export', run.runDir, '--format', 'tfjs', '--out', out]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(join(out, 'model.json'));
    const json = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as { format: string };
    expect(json.format).toBe('layers-model');
    expect(shards(out).equals(shards(join(run.runDir, 'model-final')))).toBe(true);
    // the export is a model directory the other commands accept
    const ev = jsonOf<{ loss: number }>(fitlab(['evaluate', out, '--dataset', 'spirals', '--json']));
    expect(ev.loss).toBeCloseTo(run.test.loss, 6);
  });

  it('diagnose <run> --json: regime, onset, best epoch, counterfactuals and advice', () => {
    const d = jsonOf<{ regime: string; onsetEpoch: number | null; bestEpoch: number; counterfactuals: { patience: number; restoreEpoch: number }[]; advice: unknown[] }>(
      fitlab(['diagnose', run.runDir, '--json']),
    );
    expect(d.regime).toBe(run.diagnosis.regime);
    expect(d.onsetEpoch).toBe(run.diagnosis.onsetEpoch);
    expect(d.bestEpoch).toBe(run.bestEpoch);
    expect(d.counterfactuals.length).toBeGreaterThan(0);
    for (const c of d.counterfactuals) expect(c.restoreEpoch).toBeLessThanOrEqual(4);
    expect(Array.isArray(d.advice)).toBe(true);
    expect(d.advice.length).toBeGreaterThan(0);
    const text = fitlab(['diagnose', run.runDir, '--no-chart']);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain(`Diagnosis: ${d.regime.toUpperCase().replace(/-/g, ' ')}`);
  });
});

describe('summary', () => {
  it('--model lecture-cnn prints the Keras table with 295,914 parameters', () => {
    const r = fitlab(['summary', '--model', 'lecture-cnn']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Total params: 295,914');
    expect(r.stdout).toContain('Trainable params: 295,914');
  });

  it('--json gives the counts and the layers', () => {
    const s = jsonOf<{ totalParams: number; trainableParams: number; nonTrainableParams: number; layers: { name: string; type: string; params: number }[] }>(
      fitlab(['summary', '--model', 'paper-mlp', '--json']),
    );
    // 28·28 = 784 → Dense(512): 401,920; Dense(10): 5,130 (the default input is 28×28×1)
    expect([s.totalParams, s.trainableParams, s.nonTrainableParams]).toEqual([407_050, 407_050, 0]);
    expect(s.layers.map((l) => [l.type, l.params])).toEqual([['Flatten', 0], ['Dense', 401_920], ['Dense', 5_130]]);
  });
});

describe('user errors: one message, no stack trace', () => {
  const errOut = (): string => join(tmp, 'error-runs');
  let finishedRun = '';
  let runWithoutVal = '';
  beforeAll(() => {
    mkdirSync(join(tmp, 'empty-folder'));
    mkdirSync(join(tmp, 'not-a-run'));
    writeFileSync(join(tmp, 'not-a-run', 'notes.txt'), 'hello\n');
    writeFileSync(join(tmp, 'unknown-field.json'), JSON.stringify({ input: [2], layers: [{ type: 'dense', units: 2, unit: 2, activation: 'softmax' }] }));
    writeFileSync(join(tmp, 'not-json.json'), 'this is { not JSON\n');
    writeFileSync(join(tmp, 'not-history.json'), JSON.stringify({ hello: 1 }));
    const r = jsonOf<{ runDir: string }>(fitlab(['train', '--model', 'paper-mlp', '--dataset', 'moons', '--epochs', '1', '--out', join(tmp, 'finished'), '--json']));
    finishedRun = r.runDir;
    const noVal = jsonOf<{ runDir: string }>(fitlab(['train', '--model', 'paper-mlp', '--dataset', 'moons', '--epochs', '1', '--val', '0', '--out', join(tmp, 'finished'), '--json']));
    runWithoutVal = noVal.runDir;
  });

  /** `fitlab <command> --help`, once per command. */
  const helps = new Map<string, string>();
  function helpOf(command: string): string {
    if (!helps.has(command)) helps.set(command, fitlab([command, '--help']).stdout);
    return helps.get(command) as string;
  }

  /** Options an error message mentions must exist: the user typed them, or the command has them. */
  function expectRealOptions(stderr: string, args: string[]): void {
    const command = args[0];
    const known = /^[a-z]+$/.test(command) && !command.startsWith('-') ? helpOf(command) : '';
    for (const [flag] of stderr.matchAll(/--[a-z][a-z-]*/g)) {
      if (args.includes(flag) || flag === '--help') continue;
      expect(known, `the message mentions ${flag}, which \`fitlab ${command}\` does not have:\n${stderr}`).toMatch(new RegExp(`^\\s+(-[a-z], )?${flag}\\b`, 'm'));
    }
  }

  const train = (...args: string[]): string[] => ['train', ...args, '--out', errOut()];
  const cases: [string, () => string[], RegExp, Record<string, string>?][] = [
    ['an unknown preset', () => train('--model', 'no-such-preset', '--dataset', 'spirals'), /--model "no-such-preset" is neither a preset nor an existing file/],
    ['a missing --model', () => train('--dataset', 'spirals'), /--model is required/],
    ['a missing --dataset', () => train('--model', 'paper-mlp'), /--dataset is required/],
    ['--epochs 0', () => train('--model', 'paper-mlp', '--dataset', 'spirals', '--epochs', '0'), /--epochs must be an integer ≥ 1; received "0"/],
    ['--epochs abc', () => train('--model', 'paper-mlp', '--dataset', 'spirals', '--epochs', 'abc'), /--epochs must be an integer ≥ 1; received "abc"/],
    ['--batch-size -3', () => train('--model', 'paper-mlp', '--dataset', 'spirals', '--batch-size', '-3'), /--batch-size must be an integer ≥ 1; received "-3"/],
    ['--lr -1', () => train('--model', 'paper-mlp', '--dataset', 'spirals', '--lr', '-1'), /--lr must be a number in \[0, Infinity\]; received "-1"/],
    ['an unknown option', () => train('--model', 'paper-mlp', '--dataset', 'spirals', '--bogus'), /unknown option '--bogus'/],
    ['an unknown dataset name', () => train('--model', 'paper-mlp', '--dataset', 'no-such-set'), /unknown dataset "no-such-set"; use one of mnist, fashion-mnist, .*spirals/],
    ['a dataset folder without data', () => train('--model', 'paper-mlp', '--dataset', join(tmp, 'empty-folder')), /empty-folder holds no dataset fitlab can read/],
    ['a spec file with an unknown field', () => train('--model', join(tmp, 'unknown-field.json'), '--dataset', 'spirals'), /layer 0 \(dense\).*unknown field "unit"; allowed fields: .*units/],
    ['a spec file that is not JSON', () => train('--model', join(tmp, 'not-json.json'), '--dataset', 'spirals'), /not-json\.json is not valid JSON/],
    ['a model that does not fit the data', () => train('--model', 'paper-mlp', '--dataset', 'spirals', '--input', '28,28,1'), /the model takes \(None, 28, 28, 1\) inputs but spirals examples are \(None, 2\)/],
    ['--resume of a non-run directory', () => train('--resume', join(tmp, 'not-a-run')), /not-a-run is not a fitlab run directory \(no config\.json\)/],
    ['--resume of a finished run', () => train('--resume', finishedRun), /the run already finished 1 of 1 epochs/],
    ['--resume with --model', () => train('--resume', finishedRun, '--model', 'paper-mlp'), /--resume continues a run with its own model and dataset; drop --model and --dataset/],
    ['--val 1.5', () => train('--model', 'paper-mlp', '--dataset', 'spirals', '--val', '1.5'), /--val must be a fraction .*received "1\.5"/],
    ['--optimizer bogus', () => train('--model', 'paper-mlp', '--dataset', 'spirals', '--optimizer', 'bogus'), /optimizer name must be one of sgd, adam, adamw, nadam, rmsprop; received "bogus"/],
    ['--optimizer with bad JSON', () => train('--model', 'paper-mlp', '--dataset', 'spirals', '--optimizer', '{"name": sgd}'), /--optimizer looks like JSON but does not parse/],
    ['--optimizer JSON with an unknown field', () => train('--model', 'paper-mlp', '--dataset', 'spirals', '--optimizer', '{"name":"adam","bogus":1}'), /Adam: unknown field "bogus"/],
    ['--class-weight bogus', () => train('--model', 'paper-mlp', '--dataset', 'spirals', '--class-weight', 'bogus'), /--class-weight must be 'balanced'; received "bogus"/],
    ['--loss bogus', () => train('--model', 'paper-mlp', '--dataset', 'spirals', '--loss', 'bogus'), /loss must be one of sparse_categorical_crossentropy.*received "bogus"/],
    ['--backend bogus', () => train('--model', 'paper-mlp', '--dataset', 'spirals', '--backend', 'bogus'), /'bogus' is invalid\. Allowed choices are native, reference, auto/],
    ['FITLAB_BACKEND=bogus', () => train('--model', 'paper-mlp', '--dataset', 'spirals'), /FITLAB_BACKEND must be .*received "bogus"/, { FITLAB_BACKEND: 'bogus' }],
    ['evaluate of a missing path', () => ['evaluate', join(tmp, 'missing')], /missing does not exist/],
    ['predict of a missing path', () => ['predict', join(tmp, 'missing')], /missing does not exist/],
    ['evaluate on data of another shape', () => ['evaluate', finishedRun, '--dataset', 'shapes'], /the model takes \(None, 2\) inputs but shapes examples are \(None, 16, 16, 1\)/],
    ['export without --out', () => ['export', finishedRun], /required option '--out <path>' not specified/],
    ['export to an unknown format', () => ['export', finishedRun, '--format', 'savedmodel', '--out', join(tmp, 'x')], /'savedmodel' is invalid\. Allowed choices are tfjs, onnx, keras, csv/],
    ['diagnose of a missing file', () => ['diagnose', join(tmp, 'missing.jsonl')], /missing\.jsonl does not exist/],
    ['diagnose of a JSON file that is no history', () => ['diagnose', join(tmp, 'not-history.json')], /expected a Keras history/],
    ['summary without --model', () => ['summary'], /required option '--model <model>' not specified/],
    ['an unknown command', () => ['frobnicate'], /unknown command 'frobnicate'/],
  ];

  for (const [what, args, message, env] of cases) {
    it(`${what}: non-zero exit, "error:" naming the problem`, () => {
      const r = fitlab(args(), { env });
      expect(r.status === 1 || r.status === 2, `exit status ${r.status}\n${r.stderr}`).toBe(true);
      expect(r.stderr.split('\n')[0]).toMatch(/^(fitlab: error: |error: )/);
      expect(r.stderr).toMatch(message);
      expect(r.stderr + r.stdout).not.toMatch(STACK_FRAME);
      expect(r.stderr).not.toContain('internal error');
      expectRealOptions(r.stderr, args());
    });
  }

  it('evaluate --split val of a run trained with --val 0: says so, and suggests only options evaluate has', () => {
    const args = ['evaluate', runWithoutVal, '--split', 'val'];
    const r = fitlab(args);
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n')[0]).toMatch(/^fitlab: error: .*validation split/);
    expect(r.stderr).not.toMatch(STACK_FRAME);
    expectRealOptions(r.stderr, args);
  });

  it('none of them left a run directory behind', () => {
    expect(existsSync(errOut()) ? readdirSync(errOut()) : []).toEqual([]);
  });
});

describe('Ctrl-C', () => {
  it('saves a checkpoint, exits 130 and says how to resume; the resumed run equals an uninterrupted one bit for bit', async () => {
    const spec = join(tmp, 'dropout-mlp.json');
    writeFileSync(spec, JSON.stringify({ input: [2], layers: [
      { type: 'dense', units: 32, activation: 'relu' }, { type: 'dropout', rate: 0.2 }, { type: 'dense', units: 2, activation: 'softmax' },
    ] }));
    const args = ['train', '--model', spec, '--dataset', 'spirals', '--epochs', '300', '--batch-size', '16', '--seed', '5'];

    // A fixed delay races with the machine's speed (300 tiny epochs take 1–3 s): send SIGINT as
    // soon as the second epoch line shows that training is under way.
    const child = spawn(process.execPath, [BIN, ...args, '--out', join(tmp, 'interrupted')], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!signalled && stdout.includes('Epoch 2/300')) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
    expect(signalled).toBe(true);
    expect(code, stderr).toBe(130);
    expect(stderr + stdout).not.toMatch(STACK_FRAME);
    const m = /Resume with: fitlab train --resume (\S+)/.exec(stdout);
    expect(m, stdout).not.toBeNull();
    const runDir = (m as RegExpExecArray)[1];
    const state = JSON.parse(readFileSync(join(runDir, 'checkpoint', 'state.json'), 'utf8')) as { epoch: number; batchInEpoch: number };
    expect(state.epoch).toBeGreaterThanOrEqual(1);
    expect(state.epoch).toBeLessThan(300);
    expect(existsSync(join(runDir, 'model-final'))).toBe(false);

    const resumed = jsonOf<{ runDir: string; epochsRun: number; interrupted: boolean }>(fitlab(['train', '--resume', runDir, '--json']));
    expect([resumed.runDir, resumed.epochsRun, resumed.interrupted]).toEqual([runDir, 300, false]);
    const whole = jsonOf<{ runDir: string }>(fitlab([...args, '--out', join(tmp, 'uninterrupted'), '--json']));
    expect(shards(join(runDir, 'model-final')).equals(shards(join(whole.runDir, 'model-final')))).toBe(true);
    expect(timeless(historyOf(runDir))).toEqual(timeless(historyOf(whole.runDir)));
  });
});

describe('demo', () => {
  it('tells its story: the first run OVERFITTING, the second HEALTHY, two run directories', () => {
    const out = join(tmp, 'demo');
    const r = fitlab(['demo', '--out', out], { timeoutMs: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const runs = readdirSync(out).filter((d) => existsSync(join(out, d, 'config.json'))).sort();
    expect(runs).toHaveLength(2);
    const second = r.stdout.indexOf('2. regularized ──');
    expect(second).toBeGreaterThan(0);
    expect(r.stdout.slice(0, second)).toContain('Diagnosis: OVERFITTING');
    expect(r.stdout.slice(second)).toContain('Diagnosis: HEALTHY');
    // the run directories say the same
    const regimes = Object.fromEntries(runs.map((d) => [d.replace(/^\d{8}-\d{6}-/, ''), (JSON.parse(readFileSync(join(out, d, 'diagnosis.json'), 'utf8')) as { regime: string }).regime]));
    expect(regimes).toEqual({ 'demo-memorizer-mlp': 'overfitting', 'demo-regularized-mlp': 'healthy' });
  });
});
