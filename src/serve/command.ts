/** The `fitlab train` command line equivalent to a run started from the page. */
import type { TrainRunConfig } from '../run/train-run.js';

const quote = (s: string): string => (/^[A-Za-z0-9._:/,=-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);

/** A shell command that starts the same run (an inline model spec is shown as <spec.json>). */
export function trainCommand(c: Partial<TrainRunConfig>): string {
  const parts = ['fitlab', 'train'];
  const add = (flag: string, value: unknown): void => {
    if (value === undefined || value === null || value === false) return;
    parts.push(flag);
    if (value !== true) parts.push(quote(typeof value === 'string' ? value : JSON.stringify(value)));
  };
  add('--model', c.modelSpec ? `${c.model ?? 'model'}.json` : c.model);
  add('--dataset', c.dataset);
  add('--epochs', c.epochs);
  add('--batch-size', c.batchSize);
  add('--optimizer', c.optimizer);
  add('--lr', c.lr);
  add('--val', c.val);
  add('--seed', c.seed);
  add('--early-stopping', c.earlyStopping);
  add('--augment', c.augment && c.augment !== 'none' ? c.augment : undefined);
  add('--subset', c.tools?.subset);
  add('--label-noise', c.tools?.labelNoise);
  add('--out', c.out);
  add('--name', c.name);
  return parts.join(' ');
}
