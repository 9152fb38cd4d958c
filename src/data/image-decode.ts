/**
 * PNG and JPEG decoding with no Node module, for the browser (the page's fallback decoder, and
 * the decoder Node tests hand to `datasetFromImageZip`): PNG is inflated with fflate and
 * unfiltered here; JPEG goes to jpeg-js (pure JavaScript; with typed arrays it needs no Buffer).
 * The Node importer (src/data/images.ts) keeps pngjs; this decoder gives the same RGBA pixels as
 * pngjs for every PNG colour type, bit depth and interlace (test/data/from-bytes.test.ts), tRNS
 * colour keys included (pngjs zeroes a keyed pixel's colour, not only its alpha).
 *
 * Also what both importers share about image headers: the declared size, checked before any
 * decoder allocates for it, and whether a file is grayscale (one channel) or colour.
 */
import jpeg from 'jpeg-js';
import { unzlibSync } from 'fflate';
import { DataFormatError } from './dataset.js';

/** Decoded pixels, 4 bytes (R, G, B, A) a pixel, row-major. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** An image as a dataset stores it: one channel (grayscale) or three (alpha dropped). */
export interface DecodedImage {
  width: number;
  height: number;
  channels: 1 | 3;
  pixels: Uint8Array;
}

export interface Frame {
  width: number;
  height: number;
  /** colour components (JPEG only) */
  components: number | null;
}

export const isPngBytes = (d: Uint8Array): boolean => d.length > 8 && d[0] === 0x89 && d[1] === 0x50 && d[2] === 0x4e && d[3] === 0x47;
export const isJpegBytes = (d: Uint8Array): boolean => d.length > 3 && d[0] === 0xff && d[1] === 0xd8;

/** What a JPEG's frame header (SOFn) declares, or null if none is found. */
export function jpegFrame(data: Uint8Array): Frame | null {
  let i = 2;
  while (i + 4 <= data.length && data[i] === 0xff) {
    const marker = data[i + 1];
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      // FF Cn, length (2), precision (1), height (2), width (2), components (1)
      if (i + 9 >= data.length) return null;
      return { height: (data[i + 5] << 8) | data[i + 6], width: (data[i + 7] << 8) | data[i + 8], components: data[i + 9] };
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9)) {
      i += 2; // markers without a length
      continue;
    }
    i += 2 + ((data[i + 2] << 8) | data[i + 3]);
  }
  return null;
}

/** What a PNG's IHDR (the first chunk: width, height as big-endian uint32 at bytes 16 and 20) declares. */
export function pngFrame(data: Uint8Array): Frame | null {
  if (data.length < 24) return null;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return { width: view.getUint32(16, false), height: view.getUint32(20, false), components: null };
}

const CHANNELS_BY_COLOR_TYPE: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** Adam7 passes: column start, row start, column step, row step. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

/** The filtered bytes a PNG's IHDR calls for (a filter byte per row, per pass when interlaced), or null. */
export function pngRawBytes(data: Uint8Array): number | null {
  const frame = pngFrame(data);
  const channels = CHANNELS_BY_COLOR_TYPE[data[25]];
  if (!frame || !channels || data.length < 29) return null;
  const bits = channels * data[24];
  const rows = (w: number, h: number): number => (w > 0 && h > 0 ? h * (1 + Math.ceil((w * bits) / 8)) : 0);
  if (data[28] === 0) return rows(frame.width, frame.height);
  const pass = ([x0, y0, dx, dy]: number[]): number => rows(Math.ceil((frame.width - x0) / dx), Math.ceil((frame.height - y0) / dy));
  return ADAM7.reduce((sum, p) => sum + pass(p), 0);
}

/** 8192×8192: far above any image a dataset held in memory uses, far below what exhausts it. */
export const MAX_PIXELS = 1 << 26;
/**
 * The most pixels one byte of a valid file can carry: a JPEG codes at least one bit per 8×8
 * block (512 pixels a byte); deflate packs at most 1032 bytes in one, and a 1-bit PNG has 8
 * pixels a byte. Both with a 2× margin.
 */
const PIXELS_PER_BYTE = { png: 16_384, jpeg: 1_024 };

/**
 * Refuse a header declaring more pixels than the file can hold, before a decoder allocates for
 * them: a 300-byte JPEG claiming 10000×10000 pixels took 13 s and 1 GB to fail, a PNG claiming
 * as much decoded as zeros.
 */
export function checkDeclaredSize(frame: Frame | null, bytes: number, kind: 'png' | 'jpeg', file: string): void {
  if (!frame) return;
  const pixels = frame.width * frame.height;
  const held = Math.max(1 << 20, PIXELS_PER_BYTE[kind] * bytes);
  if (pixels === 0) throw new DataFormatError(`${file}: the header declares ${frame.width}×${frame.height} pixels; an image needs at least 1×1`);
  if (pixels > MAX_PIXELS) throw new DataFormatError(`${file}: the header declares ${frame.width}×${frame.height} pixels; fitlab reads images of at most ${MAX_PIXELS.toLocaleString('en-US')} pixels`);
  if (pixels > held) throw new DataFormatError(`${file}: the header declares ${frame.width}×${frame.height} pixels, more than a ${bytes}-byte ${kind.toUpperCase()} can hold (corrupt header)`);
}

/** Sniff PNG or JPEG and check the declared size; the kind, or an error naming the file. */
export function checkImageHeader(data: Uint8Array, file: string): 'png' | 'jpeg' {
  const kind = isPngBytes(data) ? 'png' : isJpegBytes(data) ? 'jpeg' : null;
  if (!kind) throw new DataFormatError(`${file}: unreadable image (neither PNG nor JPEG by its first bytes)`);
  checkDeclaredSize(kind === 'png' ? pngFrame(data) : jpegFrame(data), data.length, kind, file);
  return kind;
}

/**
 * How many channels a dataset keeps of this file, by its header (as the Node importer decides):
 * a grayscale PNG (colour type 0 or 4) or a one-component JPEG gives 1, anything else 3.
 */
export function headerChannels(data: Uint8Array): 1 | 3 {
  if (isPngBytes(data)) return data.length > 25 && (data[25] === 0 || data[25] === 4) ? 1 : 3;
  return jpegFrame(data)?.components === 1 ? 1 : 3;
}

/** RGBA pixels → what a dataset stores (the red channel of a grayscale image; RGB otherwise). */
export function fromRgba(img: RgbaImage, channels: 1 | 3): DecodedImage {
  const n = img.width * img.height;
  const pixels = new Uint8Array(n * channels);
  for (let i = 0; i < n; i++) {
    if (channels === 1) pixels[i] = img.data[4 * i];
    else {
      pixels[3 * i] = img.data[4 * i];
      pixels[3 * i + 1] = img.data[4 * i + 1];
      pixels[3 * i + 2] = img.data[4 * i + 2];
    }
  }
  return { width: img.width, height: img.height, channels, pixels };
}

// ---- PNG -----------------------------------------------------------------------------------

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** Allowed bit depths per colour type (PNG spec table 11.1). */
const DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

interface PngHeader {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  interlaced: boolean;
}

interface PngChunks {
  header: PngHeader;
  palette: Uint8Array | null;
  trns: Uint8Array | null;
  idat: Uint8Array;
}

function readChunks(data: Uint8Array, file: string): PngChunks {
  const bad = (why: string): DataFormatError => new DataFormatError(`${file}: unreadable image (corrupt or truncated PNG data: ${why})`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let header: PngHeader | null = null;
  let palette: Uint8Array | null = null;
  let trns: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  let ended = false;
  for (let at = 8; at < data.length && !ended;) {
    if (at + 12 > data.length) throw bad(`a chunk header is cut at byte ${at}`);
    const length = view.getUint32(at, false);
    const type = String.fromCharCode(...data.subarray(at + 4, at + 8));
    if (at + 12 + length > data.length) throw bad(`chunk ${type} is cut (${length} bytes declared, ${data.length - at - 12} present)`);
    const body = data.subarray(at + 8, at + 8 + length);
    if (crc32(data.subarray(at + 4, at + 8 + length)) !== view.getUint32(at + 8 + length, false)) throw bad(`chunk ${type} fails its CRC`);
    if (!header && type !== 'IHDR') throw bad('the first chunk is not IHDR');
    if (type === 'IHDR') {
      if (length !== 13) throw bad(`IHDR is ${length} bytes, not 13`);
      const b = new DataView(body.buffer, body.byteOffset, 13);
      header = { width: b.getUint32(0, false), height: b.getUint32(4, false), depth: body[8], colorType: body[9], interlaced: body[12] === 1 };
      if (!DEPTHS[header.colorType]?.includes(header.depth)) throw bad(`bit depth ${header.depth} with colour type ${header.colorType} is not a valid PNG`);
      if (body[10] !== 0 || body[11] !== 0 || body[12] > 1) throw bad('unknown compression, filter or interlace method');
    } else if (type === 'PLTE') palette = body;
    else if (type === 'tRNS') trns = body;
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') ended = true;
    at += 12 + length;
  }
  if (!header) throw bad('no IHDR chunk');
  if (!idat.length) throw bad('no IDAT chunk');
  if (header.colorType === 3 && !palette) throw bad('a palette image without a PLTE chunk');
  const all = new Uint8Array(idat.reduce((n, c) => n + c.length, 0));
  idat.reduce((off, c) => (all.set(c, off), off + c.length), 0);
  return { header, palette, trns, idat: all };
}

/** Undo the per-row filters of one pass in place; `rowBytes` excludes the filter byte. */
function unfilter(raw: Uint8Array, start: number, rows: number, rowBytes: number, bpp: number, file: string): void {
  const stride = rowBytes + 1;
  for (let r = 0; r < rows; r++) {
    const f = raw[start + r * stride];
    const row = start + r * stride + 1;
    const prev = r > 0 ? row - stride : -1;
    for (let i = 0; i < rowBytes; i++) {
      const a = i >= bpp ? raw[row + i - bpp] : 0;
      const b = prev >= 0 ? raw[prev + i] : 0;
      const c = prev >= 0 && i >= bpp ? raw[prev + i - bpp] : 0;
      let add: number;
      switch (f) {
        case 0: add = 0; break;
        case 1: add = a; break;
        case 2: add = b; break;
        case 3: add = (a + b) >> 1; break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
          add = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: throw new DataFormatError(`${file}: unreadable image (corrupt or truncated PNG data: row filter ${f} is not 0..4)`);
      }
      raw[row + i] = (raw[row + i] + add) & 0xff;
    }
  }
}

/** Decode a PNG to RGBA, with pngjs' conventions (depth scaled to 8 bits, keyed pixels zeroed). */
export function decodePng(data: Uint8Array, file: string): RgbaImage {
  const { header, palette, trns, idat } = readChunks(data, file);
  const { width, height, depth, colorType } = header;
  const channels = CHANNELS_BY_COLOR_TYPE[colorType];
  const expected = pngRawBytes(data) as number;
  let raw: Uint8Array;
  try {
    // an output buffer of the declared size: a deflate bomb cannot grow it
    raw = unzlibSync(idat, { out: new Uint8Array(expected) });
  } catch (err) {
    throw new DataFormatError(`${file}: unreadable image (corrupt or truncated PNG data: ${(err as Error).message})`);
  }
  if (raw.length < expected) throw new DataFormatError(`${file}: unreadable image (its data holds ${raw.length} of the ${expected} bytes its header declares: truncated or corrupt PNG)`);
  const out = new Uint8Array(width * height * 4);
  const bits = channels * depth;
  const bpp = Math.max(1, bits >> 3);
  const max = (1 << depth) - 1;
  const key = trns && colorType !== 3 ? Array.from({ length: trns.length >> 1 }, (_, i) => (trns[2 * i] << 8) | trns[2 * i + 1]) : null;
  const sample = (row: number, x: number, k: number): number => {
    if (depth === 8) return raw[row + x * channels + k];
    if (depth === 16) {
      const at = row + 2 * (x * channels + k);
      return (raw[at] << 8) | raw[at + 1];
    }
    const bit = (x * channels + k) * depth; // sub-byte depths: one channel, packed from the high bit
    return (raw[row + (bit >> 3)] >> (8 - depth - (bit & 7))) & max;
  };
  const scale = (v: number): number => (depth === 8 ? v : Math.floor((v * 255) / max + 0.5));
  const put = (row: number, x: number, o: number): void => {
    if (colorType === 3) {
      const idx = sample(row, x, 0);
      if (3 * idx + 2 >= (palette as Uint8Array).length) throw new DataFormatError(`${file}: unreadable image (corrupt or truncated PNG data: palette index ${idx} is not in the ${(palette as Uint8Array).length / 3}-colour palette)`);
      for (let k = 0; k < 3; k++) out[o + k] = (palette as Uint8Array)[3 * idx + k];
      out[o + 3] = trns && idx < trns.length ? trns[idx] : 255;
      return;
    }
    const v0 = sample(row, x, 0);
    if (channels <= 2) {
      if (key && channels === 1 && v0 === key[0]) {
        out.fill(0, o, o + 4);
        return;
      }
      const g = scale(v0);
      out[o] = g;
      out[o + 1] = g;
      out[o + 2] = g;
      out[o + 3] = channels === 2 ? scale(sample(row, x, 1)) : 255;
      return;
    }
    const v1 = sample(row, x, 1);
    const v2 = sample(row, x, 2);
    if (key && channels === 3 && v0 === key[0] && v1 === key[1] && v2 === key[2]) {
      out.fill(0, o, o + 4);
      return;
    }
    out[o] = scale(v0);
    out[o + 1] = scale(v1);
    out[o + 2] = scale(v2);
    out[o + 3] = channels === 4 ? scale(sample(row, x, 3)) : 255;
  };
  const passes = header.interlaced ? ADAM7 : [[0, 0, 1, 1]];
  let start = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const w = Math.ceil((width - x0) / dx);
    const h = Math.ceil((height - y0) / dy);
    if (w <= 0 || h <= 0) continue;
    const rowBytes = Math.ceil((w * bits) / 8);
    unfilter(raw, start, h, rowBytes, bpp, file);
    for (let r = 0; r < h; r++) {
      const row = start + r * (rowBytes + 1) + 1;
      for (let x = 0; x < w; x++) put(row, x, 4 * ((y0 + r * dy) * width + x0 + x * dx));
    }
    start += h * (rowBytes + 1);
  }
  return { width, height, data: out };
}

// ---- both ----------------------------------------------------------------------------------

/** Decode a PNG or JPEG file to RGBA; errors name the file. */
export function decodeImageRgba(data: Uint8Array, file: string): RgbaImage {
  const kind = checkImageHeader(data, file);
  if (kind === 'png') return decodePng(data, file);
  try {
    const img = jpeg.decode(data, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 512 });
    return { width: img.width, height: img.height, data: img.data };
  } catch (err) {
    // jpeg-js throws plain Errors, and on some corrupt streams a TypeError from inside it
    throw new DataFormatError(`${file}: unreadable image (corrupt or truncated JPEG data: ${(err as Error).message})`);
  }
}

/**
 * The pure decoder as `datasetFromImageZip` takes one: PNG/JPEG bytes → RGBA. In a page,
 * createImageBitmap is faster; this one needs no DOM (Node, workers without OffscreenCanvas).
 * @example const ds = await datasetFromImageZip(zipBytes, 'pets', decodeImageBytes);
 */
export function decodeImageBytes(bytes: Uint8Array, file: string): Promise<RgbaImage> {
  // a rejected promise, not a throw: callers await it like createImageBitmap
  return new Promise((resolve) => resolve(decodeImageRgba(bytes, file)));
}
