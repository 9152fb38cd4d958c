/**
 * Tar archives built byte by byte (POSIX ustar), so hostile tests can write what no well-behaved
 * archiver writes: member names with '..' segments, absolute paths, links out of the archive.
 * A header is 512 bytes: name at 0 (100), mode at 100, size at 124 (12, octal), checksum at 148
 * (the byte sum with the checksum field read as spaces), type flag at 156 ('0' file, '1' hard
 * link, '2' symbolic link, '5' folder), link name at 157, "ustar\0" "00" at 257; the data
 * follows, padded to 512; two zero blocks end the archive.
 */
import { gzipSync } from 'node:zlib';

export interface TarEntry {
  name: string;
  data?: Uint8Array;
  type?: '0' | '\0' | '1' | '2' | '5' | '7';
  linkname?: string;
}

function field(header: Buffer, at: number, width: number, text: string): void {
  header.write(text.slice(0, width), at, 'utf8');
}

const octal = (n: number, width: number): string => `${n.toString(8).padStart(width - 1, '0')}\0`;

export function tarHeader(e: TarEntry): Buffer {
  const h = Buffer.alloc(512);
  const size = e.data?.length ?? 0;
  field(h, 0, 100, e.name);
  field(h, 100, 8, octal(e.type === '5' ? 0o755 : 0o644, 8));
  field(h, 108, 8, octal(0, 8));
  field(h, 116, 8, octal(0, 8));
  field(h, 124, 12, octal(size, 12));
  field(h, 136, 12, octal(1_700_000_000, 12));
  field(h, 156, 1, e.type ?? '0');
  field(h, 157, 100, e.linkname ?? '');
  field(h, 257, 6, 'ustar\0');
  field(h, 263, 2, '00');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  field(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

/** An uncompressed tar of `entries`, in order. */
export function tarBytes(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(tarHeader(e));
    const data = e.data ?? new Uint8Array(0);
    if (data.length) {
      parts.push(Buffer.from(data));
      parts.push(Buffer.alloc((512 - (data.length % 512)) % 512));
    }
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export const tarGz = (entries: TarEntry[]): Buffer => gzipSync(tarBytes(entries));
