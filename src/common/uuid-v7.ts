import { randomFillSync } from 'node:crypto';

/**
 * A time-ordered UUID (RFC 9562 version 7): 48 bits of epoch milliseconds, then 74 random
 * bits. Rows keyed by it are appended at the end of the primary-key index instead of at random
 * places in it: on SQLite, a batch of random (v4) keys dirtied a page per row, and writing a
 * click cost three times as much once the table held 80,000 rows.
 */
export function uuidV7(now: number = Date.now()): string {
  if (offset + 16 > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const b = pool.subarray(offset, offset + 16);
  offset += 16;
  // 48-bit big-endian timestamp; 2^48 ms is the year 10889.
  const high = Math.floor(now / 2 ** 16);
  b[0] = high >>> 24;
  b[1] = high >>> 16;
  b[2] = high >>> 8;
  b[3] = high;
  b[4] = now >>> 8;
  b[5] = now;
  b[6] = 0x70 | (b[6] & 0x0f); // version 7
  b[8] = 0x80 | (b[8] & 0x3f); // RFC 9562 variant
  return (
    HEX[b[0]] +
    HEX[b[1]] +
    HEX[b[2]] +
    HEX[b[3]] +
    '-' +
    HEX[b[4]] +
    HEX[b[5]] +
    '-' +
    HEX[b[6]] +
    HEX[b[7]] +
    '-' +
    HEX[b[8]] +
    HEX[b[9]] +
    '-' +
    HEX[b[10]] +
    HEX[b[11]] +
    HEX[b[12]] +
    HEX[b[13]] +
    HEX[b[14]] +
    HEX[b[15]]
  );
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** Random bytes fetched 256 UUIDs at a time, as crypto.randomUUID() does. */
const pool = Buffer.alloc(16 * 256);
let offset = pool.length;
