import { randomFillSync } from 'node:crypto';

/**
 * A time-ordered UUID (RFC 9562 version 7): 48 bits of epoch milliseconds, then 74 random
 * bits. Rows keyed by it are appended at the end of the primary-key index instead of at random
 * places in it, where random (v4) keys dirty a page per row
 * (docs/internals/performance-notes.md).
 */
export function uuidV7(now: number = Date.now()): string {
  if (offset + 16 > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  // Read in place: a subarray per UUID was a Buffer object per captured click.
  const b = pool;
  const o = offset;
  offset += 16;
  // 48-bit big-endian timestamp; 2^48 ms is the year 10889.
  const high = Math.floor(now / 2 ** 16);
  return (
    HEX[(high >>> 24) & 0xff] +
    HEX[(high >>> 16) & 0xff] +
    HEX[(high >>> 8) & 0xff] +
    HEX[high & 0xff] +
    '-' +
    HEX[(now >>> 8) & 0xff] +
    HEX[now & 0xff] +
    '-' +
    HEX[0x70 | (b[o + 6] & 0x0f)] + // version 7
    HEX[b[o + 7]] +
    '-' +
    HEX[0x80 | (b[o + 8] & 0x3f)] + // RFC 9562 variant
    HEX[b[o + 9]] +
    '-' +
    HEX[b[o + 10]] +
    HEX[b[o + 11]] +
    HEX[b[o + 12]] +
    HEX[b[o + 13]] +
    HEX[b[o + 14]] +
    HEX[b[o + 15]]
  );
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** Random bytes fetched 256 UUIDs at a time, as crypto.randomUUID() does. */
const pool = Buffer.alloc(16 * 256);
let offset = pool.length;
