/**
 * Prints each weight tensor's error against the float64 truth after the three SGD steps of
 * test/backend/fixtures/numerics-truth.json, for the reference backend and the native one on
 * every instruction set this CPU supports (1 and 2 kernel threads), next to PyTorch float32's.
 *
 *   npx tsx bench/numerics.ts [fixture.json]
 */
import { createNativeBackend, loadAddon } from '../src/backend/native/index.js';
import { createReferenceBackend } from '../src/backend/reference/index.js';
import { errors, loadFixture, replay, type TensorError } from '../test/backend/numerics-replay.js';

const fx = loadFixture(process.argv[2]);
const columns: { label: string; errs: Map<string, TensorError> }[] = [];
columns.push({ label: 'reference', errs: errors(fx, replay(fx, createReferenceBackend())) });
if (loadAddon().addon) {
  const native = createNativeBackend();
  for (const isa of native.supportedIsas()) {
    for (const threads of [1, 2]) {
      native.setIsa(isa);
      native.setThreads(threads);
      columns.push({ label: `${isa}/${threads}t`, errs: errors(fx, replay(fx, native)) });
    }
  }
}

const name = (s: string): string => s.padEnd(36);
const cell = (s: string): string => s.padStart(14);
console.log(name('max |w − truth|  (× torch float32)') + cell('torch f32') + columns.map((c) => cell(c.label)).join(''));
for (const [tensor, torch] of fx.torch) {
  const row = columns.map((c) => {
    const e = (c.errs.get(tensor) as TensorError).maxAbs;
    return cell(`${e.toExponential(1)} ${(e / torch.maxAbs).toFixed(1)}×`);
  });
  console.log(name(tensor) + cell(torch.maxAbs.toExponential(2)) + row.join(''));
}
