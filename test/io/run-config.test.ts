/**
 * The run contract (src/io/run-config.ts): for every field of the table that has a flag, the
 * command line → config → equivalent command (read back by a real shell) → the same config;
 * the page's body → config → equivalent command → the same config; one range per field, the
 * same at every front door; validateRunConfig for JSON (the queue); config.json's schema, and
 * its reader (src/io/run-config-file.ts) apart from the table, which imports nothing from Node.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { trainConfigFromArgs } from '../../src/cli/train.js';
import { RUN_CONFIG_SCHEMA, RUN_FIELDS, type TrainRunConfig, getField, parseRunConfigFile, validateRunConfig } from '../../src/io/run-config.js';
import { readRunConfigFile } from '../../src/io/run-config-file.js';
import { trainCommand } from '../../src/serve/command.js';
import { parseControl, parseStartRun } from '../../src/serve/validate.js';

/** The words a POSIX shell makes of a command line (its quoting is what users paste). */
function shellWords(line: string): string[] {
  const out = execFileSync('sh', ['-c', `set -- ${line}; printf '%s\\0' "$@"`], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

/** Train args of a command line "fitlab train ...". */
function argsOf(command: string): string[] {
  const words = shellWords(command);
  expect(words.slice(0, 2)).toEqual(['fitlab', 'train']);
  return words.slice(2);
}

const BASE = ['--model', 'paper-mlp', '--dataset', 'spirals'];

/**
 * One value for every flag, as typed and as the config holds it; each differs from the field's
 * default, so a flag the command dropped would show. [] is a switch.
 */
const SAMPLES: Record<string, [string[], unknown]> = {
  model: [['my net.json'], 'my net.json'],
  dataset: [["it's/a folder"], "it's/a folder"],
  dataDir: [['/data/x y'], '/data/x y'],
  epochs: [['7'], 7],
  batchSize: [['16'], 16],
  optimizer: [['{"name":"sgd","momentum":0.9,"learningRate":{"kind":"cosine","initial":0.1,"decaySteps":50}}'], { name: 'sgd', momentum: 0.9, learningRate: { kind: 'cosine', initial: 0.1, decaySteps: 50 } }],
  lr: [['0.003'], 0.003],
  loss: [['categorical_crossentropy'], 'categorical_crossentropy'],
  val: [['first:100'], 'first:100'],
  seed: [['0'], 0],
  threads: [['2'], 2],
  earlyStopping: [['0'], 0],
  monitor: [['loss'], 'loss'],
  checkpoint: [['none'], 'none'],
  shuffle: [[], false],
  out: [['else where'], 'else where'],
  name: [["it's mine"], "it's mine"],
  input: [['28,28,1'], [28, 28, 1]],
  classes: [['3'], 3],
  classWeight: [['balanced'], 'balanced'],
  augment: [['{"rotationRange":10,"horizontalFlip":true}'], '{"rotationRange":10,"horizontalFlip":true}'],
  labels: [['coarse'], 'coarse'],
  download: [[], true],
  'tools.subset': [['20'], 20],
  'tools.imbalance': [['1,0.5'], [1, 0.5]],
  'tools.labelNoise': [['0.2'], 0.2],
  'tools.randomLabels': [['1'], 1],
  'tools.corruptTest': [['auto'], 'auto'],
};

const FLAGGED = RUN_FIELDS.filter((f) => f.flag);

describe('the command line → config → equivalent command → the same config', () => {
  it('has a sample for every field with a flag (a new field needs one here)', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual(FLAGGED.map((f) => f.key).sort());
  });

  for (const f of FLAGGED) {
    it(`${f.flag} (${f.key})`, () => {
      const [typed, value] = SAMPLES[f.key];
      const first = trainConfigFromArgs([...BASE, f.flag as string, ...typed]);
      expect(getField(first, f.key)).toEqual(value);
      expect(value).not.toEqual(f.default);
      const command = trainCommand(first);
      const again = trainConfigFromArgs(argsOf(command));
      expect(again).toEqual(first);
      // the command names the flag (a switch by itself)
      expect(argsOf(command)).toContain(f.flag);
    });
  }

  it('every flag at once', () => {
    const args = FLAGGED.flatMap((f) => [f.flag as string, ...SAMPLES[f.key][0]]);
    const first = trainConfigFromArgs(args);
    for (const f of FLAGGED) expect(getField(first, f.key), f.key).toEqual(SAMPLES[f.key][1]);
    expect(trainConfigFromArgs(argsOf(trainCommand(first)))).toEqual(first);
  });

  it('the defaults alone: the command spells them, and reads back the same', () => {
    const first = trainConfigFromArgs(BASE);
    expect(first).toMatchObject({ epochs: 10, batchSize: 32, optimizer: 'adam', val: '0.1', seed: 42, loss: 'sparse_categorical_crossentropy', checkpoint: 'best', shuffle: true, out: 'runs', earlyStopping: null, augment: null, classWeight: null });
    expect(trainConfigFromArgs(argsOf(trainCommand(first)))).toEqual(first);
  });
});

describe('the page\'s body → config → equivalent command → the same config', () => {
  const body = { dataset: 'spirals', model: 'paper-mlp', epochs: 5, batchSize: 8, optimizer: 'sgd', lr: 0.01, momentum: 0.9, weightDecay: 1e-4, earlyStopping: 4, augment: 'none', val: 'last:0.2', seed: 7, subset: 30, labelNoise: 0.1, name: 'from-page' };

  it('every field the page sets', () => {
    const page = parseStartRun(body, 'runs');
    expect(page).toMatchObject({ optimizer: { name: 'sgd', momentum: 0.9, weightDecay: 1e-4 }, tools: { subset: 30, labelNoise: 0.1 }, augment: null, earlyStopping: 4 });
    const cli = trainConfigFromArgs(argsOf(trainCommand(page)));
    // the command line adds the defaults of fields the page does not offer
    const offered = Object.fromEntries(Object.entries(cli).filter(([k]) => k in page)) as Partial<TrainRunConfig>;
    expect(offered).toEqual(page);
  });

  it('an inline model spec is named <name>.json (the command writes it there first; test/serve/command.test.ts)', () => {
    const page = parseStartRun({ dataset: 'spirals', modelSpec: { name: 'mine', input: [2], layers: [{ type: 'dense', units: 2, activation: 'softmax' }] } }, 'runs');
    const train = trainCommand(page).split('\n').pop() as string;
    expect(argsOf(train).slice(0, 2)).toEqual(['--model', 'mine.json']);
    expect(trainConfigFromArgs(argsOf(train))).toMatchObject({ model: 'mine.json', dataset: 'spirals', epochs: 10, seed: 42 });
  });
});

describe('one range per field, at every front door', () => {
  it('the learning rate: the command line, the page and a JSON config refuse -1 alike', () => {
    expect(() => trainConfigFromArgs([...BASE, '--lr', '-1'])).toThrow('--lr must be a number in [0, Infinity]; received "-1"');
    expect(() => parseStartRun({ dataset: 'spirals', model: 'paper-mlp', lr: -1 }, 'runs')).toThrow('lr must be a number in [0, Infinity]; received -1');
    expect(validateRunConfig({ model: 'paper-mlp', dataset: 'spirals', epochs: 1, lr: -1 })).toEqual({ error: 'lr must be a number in [0, Infinity]; received -1' });
    // the live knob of a running run: the same range
    expect(() => parseControl({ set: { learningRate: -1 } })).toThrow('learningRate must be a number in [0, Infinity]; received -1');
    expect(parseControl({ set: { learningRate: 20 } })).toEqual({ set: { learningRate: 20 } });
    // a large rate is a run that diverges, not a bad value: the page takes what the CLI takes
    expect(parseStartRun({ dataset: 'spirals', model: 'paper-mlp', lr: 1e10 }, 'runs').lr).toBe(1e10);
  });

  it('a run name is one folder name at every door', () => {
    expect(() => parseStartRun({ dataset: 'spirals', model: 'paper-mlp', name: '../x' }, 'runs')).toThrow('name must be a name of 1 to 200 characters without / or \\ (one folder name); received "../x"');
    expect(() => trainConfigFromArgs([...BASE, '--name', 'a/b'])).toThrow('--name must be a name of 1 to 200 characters without / or \\ (one folder name); received "a/b"');
    expect(validateRunConfig({ model: 'paper-mlp', dataset: 'spirals', epochs: 1, name: '..' })).toEqual({ error: expect.stringMatching(/^name must be a name of 1 to 200/) as unknown });
    expect(trainConfigFromArgs([...BASE, '--name', 'my run (2)']).name).toBe('my run (2)');
  });

  it('errors below the command line name the field as its front door does', () => {
    expect(() => parseStartRun({ dataset: 'spirals', model: 'paper-mlp', val: '1.5' }, 'runs')).toThrow(/^val must be a fraction/);
    expect(() => trainConfigFromArgs([...BASE, '--val', '1.5'])).toThrow(/--val must be a fraction/);
    expect(() => parseStartRun({ dataset: 'spirals', model: 'paper-mlp', subset: 0 }, 'runs')).toThrow('subset must be an integer ≥ 1; received 0');
    expect(() => parseStartRun({ dataset: 'spirals', model: 'paper-mlp', optimizer: 'sgd', momentum: 2 }, 'runs')).toThrow(/momentum/);
  });
});

describe('validateRunConfig (a queue job\'s config)', () => {
  it('returns the config or one line', () => {
    const ok = { model: 'paper-mlp', dataset: 'spirals', epochs: 2, tools: { subset: 5 }, classWeight: { 0: 1, 1: 2 } };
    expect(validateRunConfig(ok)).toEqual({ config: ok });
    expect(validateRunConfig({ model: 'paper-mlp', dataset: 'spirals', epochs: 2, bogus: 1 })).toEqual({ error: expect.stringMatching(/^run configuration: unknown field "bogus"; allowed: model, /) as unknown });
    expect(validateRunConfig({ model: 'paper-mlp', dataset: 'spirals', epochs: 2, tools: { subset: 5, nope: 1 } })).toEqual({ error: expect.stringMatching(/^tools: unknown field "nope"/) as unknown });
    expect(validateRunConfig({ model: 'paper-mlp', dataset: 'spirals' })).toEqual({ error: 'epochs is required' });
    expect(validateRunConfig([1])).toEqual({ error: 'a run configuration must be a JSON object; received [1]' });
  });
});

describe('config.json', () => {
  it('a file without a schema (written before it existed) reads as schema 1; a newer one is refused', () => {
    expect(parseRunConfigFile({ model: {}, command: { epochs: 1 } }, 'x/config.json').schema).toBe(1);
    expect(parseRunConfigFile({ schema: RUN_CONFIG_SCHEMA }, 'x/config.json').schema).toBe(RUN_CONFIG_SCHEMA);
    expect(() => parseRunConfigFile({ schema: RUN_CONFIG_SCHEMA + 1 }, 'x/config.json')).toThrow(`x/config.json: schema ${RUN_CONFIG_SCHEMA + 1} is newer than this fitlab reads (${RUN_CONFIG_SCHEMA})`);
    expect(() => parseRunConfigFile({ training: 3 }, 'x/config.json')).toThrow('x/config.json: training must be a JSON object; received 3');
  });
});

describe('reading config.json (src/io/run-config-file.ts)', () => {
  it('reads a run directory\'s file typed, and names the directory or file it cannot use', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fitlab-run-config-'));
    try {
      expect(() => readRunConfigFile(dir)).toThrow(`${dir} is not a fitlab run directory (no config.json)`);
      writeFileSync(join(dir, 'config.json'), '{"schema": 1, "command": {"model": "mlp"');
      expect(() => readRunConfigFile(dir)).toThrow(`${join(dir, 'config.json')} is not valid JSON`);
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ command: { model: 'mlp', dataset: 'spirals', epochs: 2 } }));
      const file = readRunConfigFile(dir);
      expect(file.schema).toBe(1);
      expect(file.command.epochs).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the table itself imports no Node built-in (the site worker bundles it without stubs)', () => {
    const source = readFileSync(join(import.meta.dirname, '..', '..', 'src', 'io', 'run-config.ts'), 'utf8');
    expect(source.match(/from 'node:[a-z_/]+'/g) ?? []).toEqual([]);
  });
});
