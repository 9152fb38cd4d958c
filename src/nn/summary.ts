/**
 * model.summary(): the Keras 2 table — layer name and type, output shape, parameter count —
 * ending in Total / Trainable / Non-trainable params with thousands separators. Graph models
 * (with Add) get Keras' input row and fourth column, "Connected to".
 *
 * Layout rules as Keras prints them: columns end at fixed fractions of the line (65 wide, or 98
 * with connections); a field longer than its column minus two spaces wraps onto continuation
 * lines ("max_pooling2d (MaxPooling2D" / ")"), and lists break after "'," so each connection
 * gets its own line.
 */
import { MODEL_INPUT, type Model } from './model.js';
import { formatShape } from './shape.js';

const thousands = (n: number): string => n.toLocaleString('en-US');

const BREAKS = ['),', '},', '],', "',"];

function printRow(fields: string[], positions: number[]): string[] {
  const left = [...fields];
  const lines: string[] = [];
  while (left.some((f) => f.length > 0)) {
    let line = '';
    left.forEach((text, col) => {
      const start = col > 0 ? positions[col - 1] : 0;
      const last = col === positions.length - 1;
      const space = last ? 0 : 2;
      let cutoff = positions[col] - start - space;
      let fit = text.slice(0, cutoff);
      const candidates = BREAKS.map((b) => (fit.includes(b) ? fit.indexOf(b) + b.length : -1)).filter((c) => c >= 0);
      if (candidates.length) {
        cutoff = Math.min(...candidates);
        fit = fit.slice(0, cutoff);
      }
      if (col === 0) line += ' ';
      line += fit + ' '.repeat(space);
      left[col] = text.slice(cutoff);
      line += ' '.repeat(Math.max(0, positions[col] - line.length));
    });
    lines.push(line);
  }
  return lines;
}

export function summary(model: Model): string {
  const graph = model.inputIndex.some((idx, i) => idx.length !== 1 || idx[0] !== i - 1);
  const width = graph ? 98 : 65;
  const positions = (graph ? [0.3, 0.6, 0.7, 1] : [0.45, 0.85, 1]).map((p) => Math.floor(width * p));
  const headers = graph ? ['Layer (type)', 'Output Shape', 'Param #', 'Connected to'] : ['Layer (type)', 'Output Shape', 'Param #'];
  const lines = [`Model: "${model.name}"`, '_'.repeat(width), ...printRow(headers, positions), '='.repeat(width)];
  const rows: string[][] = [];
  if (graph) rows.push([`${MODEL_INPUT} (InputLayer)`, `[${formatShape(model.inputShape)}]`, '0', '[]']);
  model.layers.forEach((layer, i) => {
    const c = layer.countParams();
    const fields = [`${layer.name} (${layer.className})`, formatShape(layer.outputShape), String(c.trainable + c.nonTrainable)];
    if (graph) {
      const refs = model.inputIndex[i].map((j) => `'${j < 0 ? MODEL_INPUT : model.layers[j].name}[0][0]'`);
      fields.push(`[${refs.join(', ')}]`);
    }
    rows.push(fields);
  });
  rows.forEach((fields, i) => {
    lines.push(...printRow(fields, positions));
    if (i < rows.length - 1) lines.push(' '.repeat(width));
  });
  const counts = model.countParams();
  lines.push(
    '='.repeat(width),
    `Total params: ${thousands(counts.total)}`,
    `Trainable params: ${thousands(counts.trainable)}`,
    `Non-trainable params: ${thousands(counts.nonTrainable)}`,
    '_'.repeat(width),
  );
  return lines.join('\n');
}
