/** The New run tab: the same options the CLI takes, the equivalent command, and Start. */
import { getJson, postJson } from './api.js';
import { $, clear, el, toast } from './dom.js';
import type { DashboardOptions } from '../../src/serve/protocol.js';

const TWO_D = ['spirals', 'moons', 'circles', 'xor', 'blobs'];

function mlpSpec(classes: number): string {
  // one layer a line: readable and easy to edit
  const layers = [
    { type: 'dense', units: 64, activation: 'relu' }, { type: 'dropout', rate: 0.1 },
    { type: 'dense', units: 64, activation: 'relu' }, { type: 'dense', units: classes, activation: 'softmax' }];
  return `{"name": "mlp", "input": [2], "layers": [\n${layers.map((l) => `  ${JSON.stringify(l)}`).join(',\n')}\n]}`;
}

let onStarted: (id: string) => void = () => undefined;

/** A row of the form: label, input, help; a `wide` input spans the input and help columns. */
function field(form: HTMLElement, label: string, input: HTMLElement, help = '', wide = false): HTMLElement[] {
  const parts = wide
    ? [el('label', { for: input.id }, label, el('span', { class: 'help' }, help)), input]
    : [el('label', { for: input.id }, label), input, el('span', { class: 'help' }, help)];
  if (wide) input.classList.add('wide');
  form.append(...parts);
  return parts;
}

function numberInput(id: string, value: string, step = 'any'): HTMLInputElement {
  return el('input', { id, type: 'number', step, value, min: 0 });
}

function select(id: string, options: string[], value: string): HTMLSelectElement {
  return el('select', { id }, ...options.map((o) => el('option', { value: o, selected: o === value }, o)));
}

/** The form as a request body (empty fields left out: the server's defaults apply). */
function body(): Record<string, unknown> {
  const v = (id: string): string => ($(id) as HTMLInputElement).value.trim();
  const n = (id: string): number | undefined => (v(id) === '' ? undefined : Number(v(id)));
  const b: Record<string, unknown> = {
    dataset: v('f-dataset'), epochs: n('f-epochs'), batchSize: n('f-batch'), optimizer: v('f-optimizer'), lr: n('f-lr'),
    momentum: n('f-momentum'), weightDecay: n('f-wd'), earlyStopping: n('f-es'), augment: v('f-augment'), val: v('f-val') || undefined,
    seed: n('f-seed'), subset: n('f-subset'), labelNoise: n('f-noise'), name: v('f-name') || undefined,
  };
  if (v('f-model') === 'custom spec (JSON)') {
    try {
      b.modelSpec = JSON.parse(v('f-spec')) as unknown;
    } catch (err) {
      throw new Error(`the model spec is not valid JSON: ${(err as Error).message}`);
    }
  } else b.model = v('f-model');
  return Object.fromEntries(Object.entries(b).filter(([, x]) => x !== undefined));
}

let previewTimer = 0;
function preview(): void {
  clearTimeout(previewTimer);
  previewTimer = window.setTimeout(() => {
    let b: Record<string, unknown>;
    try {
      b = body();
    } catch (err) {
      $('command').textContent = (err as Error).message;
      return;
    }
    postJson<{ command: string }>('/api/command', b).then(
      (r) => ($('command').textContent = r.command),
      (err: Error) => ($('command').textContent = `✗ ${err.message}`),
    );
  }, 150);
}

export async function initStart(started: (id: string) => void): Promise<void> {
  onStarted = started;
  const o = await getJson<DashboardOptions>('/api/options');
  const form = clear($('start-form'));
  const dataset = select('f-dataset', o.datasets, 'spirals');
  const model = select('f-model', ['custom spec (JSON)', ...o.presets], 'custom spec (JSON)');
  const spec = el('textarea', { id: 'f-spec', spellcheck: false }, mlpSpec(2));
  field(form, 'dataset', dataset, 'mnist / fashion-mnist / cifar10 must be installed; 2-D sets are built in');
  field(form, 'model', model, 'a preset, or a JSON spec as --model takes');
  const specRow = field(form, 'model spec', spec, 'one layer a line; the command below writes it to a file', true);
  // the spec box is for a custom spec only: a preset hides it
  const syncSpec = (): void => {
    for (const part of specRow) part.hidden = model.value !== 'custom spec (JSON)';
  };
  model.addEventListener('change', syncSpec);
  field(form, 'epochs', numberInput('f-epochs', '200', '1'));
  field(form, 'batch size', numberInput('f-batch', '16', '1'));
  field(form, 'optimizer', select('f-optimizer', o.optimizers, 'adam'));
  field(form, 'learning rate', numberInput('f-lr', '0.003'), 'empty: the optimizer’s default');
  field(form, 'momentum / β1', numberInput('f-momentum', ''), 'SGD/RMSprop momentum, Adam β1');
  field(form, 'weight decay', numberInput('f-wd', ''), 'decoupled for AdamW');
  field(form, 'early stopping', numberInput('f-es', '', '1'), 'patience in epochs (restores the best weights)');
  field(form, 'augmentation', select('f-augment', o.augments, 'none'), 'images only');
  field(form, 'validation', el('input', { id: 'f-val', value: '0.3' }), '0.1, first:5000, last:0.1');
  field(form, 'seed', numberInput('f-seed', '42', '1'));
  field(form, 'subset per class', numberInput('f-subset', '', '1'), 'keep N training examples per class');
  field(form, 'label noise', numberInput('f-noise', ''), 'fraction of training labels made wrong');
  field(form, 'name', el('input', { id: 'f-name', value: '' }), 'run directory name (default model-dataset)');
  dataset.addEventListener('change', () => {
    if (TWO_D.includes(dataset.value)) {
      model.value = 'custom spec (JSON)';
      spec.value = mlpSpec(dataset.value === 'blobs' ? 3 : 2);
    } else if (model.value === 'custom spec (JSON)') {
      model.value = o.presets.includes('paper-mlp') ? 'paper-mlp' : o.presets[0];
    }
    syncSpec();
    preview();
  });
  form.addEventListener('input', preview);
  form.addEventListener('change', preview);
  $('btn-start').addEventListener('click', () => void start());
  preview();
}

async function start(): Promise<void> {
  const button = $('btn-start') as HTMLButtonElement;
  button.disabled = true;
  try {
    const r = await postJson<{ id: string; command: string }>('/api/runs', body());
    toast(`started ${r.id}`, 'info');
    onStarted(r.id);
  } catch (err) {
    toast((err as Error).message);
  } finally {
    button.disabled = false;
  }
}
