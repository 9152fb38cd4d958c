/**
 * Terminal progress for training: a Keras-style bar per epoch with ETA and live metrics
 * (cli-progress), or one line per epoch when the output is not a terminal or under --quiet.
 */
import cliProgress from 'cli-progress';
import type { BatchLog } from '../train/callbacks.js';
import type { EpochLog } from '../train/history.js';
import { fmt } from './common.js';

export function epochLine(log: EpochLog, epochs: number): string {
  const parts = [`Epoch ${log.epoch + 1}/${epochs}`, `${log.seconds.toFixed(1)}s`, `loss: ${fmt(log.loss)}`];
  if (log.accuracy !== undefined) parts.push(`accuracy: ${fmt(log.accuracy)}`);
  if (log.val_loss !== undefined) parts.push(`val_loss: ${fmt(log.val_loss)}`);
  if (log.val_accuracy !== undefined) parts.push(`val_accuracy: ${fmt(log.val_accuracy)}`);
  if (log.penalty) parts.push(`penalty: ${fmt(log.penalty)}`);
  parts.push(`lr: ${log.learning_rate.toPrecision(3)}`);
  return parts.join(' - ');
}

export class TrainingProgress {
  private bar: cliProgress.SingleBar | null = null;
  private epoch = -1;
  private readonly live: boolean;
  constructor(private readonly stream: NodeJS.WriteStream, quiet: boolean, private readonly write: (line: string) => void) {
    this.live = !quiet && Boolean(stream.isTTY);
  }

  onBatch(info: { epoch: number; batch: number; batches: number; epochs: number; logs: BatchLog }): void {
    if (!this.live) return;
    if (info.epoch !== this.epoch) {
      this.bar?.stop();
      this.epoch = info.epoch;
      this.bar = new cliProgress.SingleBar({
        format: `Epoch ${info.epoch + 1}/${info.epochs} [{bar}] {value}/{total} | ETA {eta_formatted} | loss {loss}{acc}`,
        barsize: 24,
        hideCursor: true,
        clearOnComplete: true,
        stream: this.stream,
        etaBuffer: 50,
        fps: 10,
      }, cliProgress.Presets.legacy);
      this.bar.start(info.batches, 0, { loss: '…', acc: '' });
    }
    this.bar?.update(info.batch + 1, {
      loss: fmt(info.logs.loss),
      acc: info.logs.accuracy !== undefined ? ` | accuracy ${fmt(info.logs.accuracy)}` : '',
    });
  }

  onEpoch(log: EpochLog, epochs: number): void {
    this.bar?.stop();
    this.bar = null;
    this.epoch = -1;
    this.write(epochLine(log, epochs));
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
