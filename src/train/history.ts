/**
 * Training history: one log per epoch (Keras' keys — loss, accuracy, val_loss, val_accuracy —
 * plus the learning rate, the regularization penalty on its own, and seconds).
 */
export interface EpochLog {
  /** 0-based epoch index */
  epoch: number;
  /** mean training loss over the epoch, regularization included (as Keras reports it) */
  loss: number;
  accuracy?: number;
  val_loss?: number;
  val_accuracy?: number;
  /** learning rate used during the epoch */
  learning_rate: number;
  /** mean regularization penalty over the epoch (part of loss) */
  penalty: number;
  /** wall seconds of the epoch (training and validation) */
  seconds: number;
  /** examples seen so far */
  examples?: number;
  [key: string]: number | undefined;
}

export class History {
  readonly epochs: EpochLog[] = [];

  push(log: EpochLog): void {
    this.epochs.push(log);
  }

  get length(): number {
    return this.epochs.length;
  }

  /** Keras' history.history: a dict of lists. */
  toKeras(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const log of this.epochs) {
      for (const [k, v] of Object.entries(log)) {
        if (k === 'epoch' || v === undefined) continue;
        (out[k] ??= []).push(v);
      }
    }
    return out;
  }

  last(): EpochLog | undefined {
    return this.epochs[this.epochs.length - 1];
  }
}
