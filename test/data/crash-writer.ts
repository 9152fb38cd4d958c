/**
 * Child process for cache.test.ts: writes a dataset cache with `writeCache` and dies by SIGKILL
 * in the middle of writing data.bin (after half of its bytes reached the disk) — a power cut
 * or an OOM kill during `fitlab data import`, made deterministic.
 *
 *   node --import tsx test/data/crash-writer.ts <cache dir> <examples> <fill byte>
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const [dir, examples, fill] = process.argv.slice(2);
const n = Number(examples);
const original = fs.writeSync;
// node:fs's ESM named exports follow the CommonJS object after syncBuiltinESMExports()
fs.writeSync = ((fd: number, buffer: Uint8Array, offset?: number, length?: number) => {
  if (buffer.length >= n * 28 * 28) {
    original(fd, buffer, offset ?? 0, Math.floor((length ?? buffer.length) / 2));
    fs.fsyncSync(fd);
    process.kill(process.pid, 'SIGKILL');
  }
  return original(fd, buffer, offset, length);
}) as typeof fs.writeSync;
syncBuiltinESMExports();

const { writeCache } = await import('../../src/data/cache.js');
writeCache(dir, {
  name: 'crash', source: 'crash-writer', shape: [28, 28, 1], classes: 10, classNames: Array.from({ length: 10 }, (_, i) => String(i)),
  train: { x: new Uint8Array(n * 784).fill(Number(fill)), y: Int32Array.from({ length: n }, (_, i) => i % 10) }, test: null, scale: 1 / 255,
}, { force: true });
process.stdout.write('the write completed: the crash was not simulated\n');
