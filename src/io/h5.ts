/**
 * HDF5 through h5wasm (the HDF5 C library compiled to WebAssembly; its Node build reads and
 * writes the host file system directly). The library starts asynchronously, so a caller that may
 * meet an HDF5 file awaits `h5Ready()` once; the readers and writers after that are synchronous.
 * Loading is lazy: commands that never touch Keras files never pay for the WebAssembly start.
 */
import { FitlabError } from '../errors.js';

type H5Lib = typeof import('h5wasm/node');
export type H5File = InstanceType<H5Lib['File']>;
export type H5Group = InstanceType<H5Lib['Group']>;
export type H5Dataset = InstanceType<H5Lib['Dataset']>;

let lib: H5Lib | null = null;

/** Start h5wasm (once per process). */
export async function h5Ready(): Promise<H5Lib> {
  if (!lib) {
    const mod = await import('h5wasm/node');
    const module = await mod.ready;
    // HDF5 prints its error stack to stderr by default; thrown, it becomes one line of ours
    module.activate_throwing_error_handler();
    lib = mod;
  }
  return lib;
}

/** The started library; a programming error (not user input) when `h5Ready` was not awaited. */
export function h5(): H5Lib {
  if (!lib) throw new FitlabError('internal: HDF5 support was not started (await h5Ready() before reading Keras files)');
  return lib;
}

/** The 8-byte signature every HDF5 file starts with (no user block: Keras writes none). */
const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

export function isHdf5Bytes(head: Uint8Array): boolean {
  return head.length >= 8 && HDF5_MAGIC.every((b, i) => head[i] === b);
}

/**
 * HDF5's error stack ("#000: … in H5Fopen(): unable to open file", … "#006: … truncated file:
 * eof = 5000, …") as one line: its innermost reason, which is the most specific.
 */
export function h5ErrorSummary(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const reasons = [...text.matchAll(/in \w+\(\): ([^\n]+)/g)].map((m) => m[1].trim());
  return reasons.length ? reasons[reasons.length - 1] : text.replace(/\s+/g, ' ').slice(0, 200);
}

/** Open `path` for reading; a file HDF5 cannot open is a one-line error naming it. */
export function openH5(path: string): H5File {
  const { File } = h5();
  try {
    const f = new File(path, 'r');
    // h5wasm reports an unopenable file by a zero id rather than by throwing
    if (!f.file_id) throw new Error('not an HDF5 file');
    return f;
  } catch (err) {
    throw new FitlabError(`${path} cannot be read as HDF5 (corrupt or truncated file): ${h5ErrorSummary(err)}`);
  }
}

/** An entry if it is a group, else null. */
export function groupAt(parent: H5Group, name: string): H5Group | null {
  if (!parent.keys().includes(name.split('/')[0])) return null;
  let entry: unknown;
  try {
    entry = parent.get(name);
  } catch {
    return null;
  }
  return entry instanceof h5().Group ? entry : null;
}

/** An attribute as a string (HDF5 stores Keras' JSON as a fixed or variable length string). */
export function stringAttr(node: H5Group, name: string): string | null {
  const a = node.attrs[name];
  if (!a) return null;
  const v = a.value;
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  return null;
}

/** An attribute holding a list of strings (Keras' layer_names, weight_names). */
export function stringListAttr(node: H5Group, name: string): string[] | null {
  const a = node.attrs[name];
  if (!a) return null;
  const v = a.value;
  if (Array.isArray(v)) return v.map((x) => (x instanceof Uint8Array ? new TextDecoder().decode(x) : typeof x === 'string' ? x : JSON.stringify(x)));
  if (typeof v === 'string') return [v];
  return null;
}

/** A numeric dataset as float32 values with its shape. */
export function readFloatDataset(file: H5Group, path: string, where: string): { shape: number[]; values: Float32Array } {
  let entry: unknown;
  try {
    entry = file.get(path);
  } catch {
    entry = null;
  }
  if (!(entry instanceof h5().Dataset)) throw new FitlabError(`${where}: no weight dataset at ${path}`);
  const ds = entry;
  const v = ds.value;
  const shape = ds.shape ?? [];
  if (v instanceof Float32Array) return { shape, values: v };
  if (v instanceof Float64Array || v instanceof Int32Array || v instanceof Uint8Array || v instanceof Int16Array) {
    return { shape, values: Float32Array.from(v) };
  }
  if (typeof v === 'number') return { shape, values: Float32Array.of(v) };
  throw new FitlabError(`${where}: weight ${path} has dtype ${JSON.stringify(ds.dtype)}; only float32/float64 weights are supported`);
}
