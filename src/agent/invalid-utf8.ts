/**
 * Where a JSON body stops being UTF-8, for a 400 that names the field. Only called on a
 * body that failed the check already: nothing here runs for a valid one.
 */
export function invalidUtf8Fields(body: Buffer): Record<string, string[]> {
  const offset = firstInvalidByte(body);
  const { field, inName } = fieldAt(body.subarray(0, offset).toString('utf8'));
  const where = `byte ${offset} of the body, 0x${body[offset].toString(16).padStart(2, '0')}`;
  const fix = 'send text as UTF-8: bytes that do not decode are refused, not replaced';
  const key = field ?? 'body';
  const what = inName ? 'has a field name that is not valid UTF-8' : 'is not valid UTF-8';
  return { [key]: [`${field ?? 'the body'} ${what} (${where}); ${fix}`] };
}

/** Offset of the first byte that is not part of a well-formed UTF-8 sequence (RFC 3629). */
export function firstInvalidByte(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i];
    let size: number;
    let low = 0x80;
    let high = 0xbf;
    if (lead < 0x80) size = 1;
    else if (lead >= 0xc2 && lead <= 0xdf) size = 2;
    else if (lead >= 0xe0 && lead <= 0xef) {
      size = 3;
      if (lead === 0xe0) low = 0xa0; // overlong
      if (lead === 0xed) high = 0x9f; // a surrogate
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      size = 4;
      if (lead === 0xf0) low = 0x90; // overlong
      if (lead === 0xf4) high = 0x8f; // beyond U+10FFFF
    } else return i;
    for (let k = 1; k < size; k++) {
      const next = bytes[i + k];
      if (next === undefined) return i;
      if (next < (k === 1 ? low : 0x80) || next > (k === 1 ? high : 0xbf)) return i;
    }
    i += size;
  }
  return -1;
}

type Frame = { array: true; index: number } | { array: false; key?: string; expectsKey: boolean };

/**
 * The field (a dotted path, `subParams.sub1`, `ids.3`) a JSON text that is cut short ends
 * inside, and whether it ends inside a field's name rather than its value.
 */
export function fieldAt(text: string): { field?: string; inName: boolean } {
  const frames: Frame[] = [];
  let stringStart = -1;
  let stringIsName = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const top = frames[frames.length - 1];
    if (stringStart >= 0) {
      if (c === '\\') i++;
      else if (c === '"') {
        if (stringIsName && top && !top.array) {
          top.key = nameOf(text.slice(stringStart, i + 1));
          top.expectsKey = false;
        }
        stringStart = -1;
      }
      continue;
    }
    if (c === '"') {
      stringStart = i;
      stringIsName = top !== undefined && !top.array && top.expectsKey;
    } else if (c === '{') frames.push({ array: false, expectsKey: true });
    else if (c === '[') frames.push({ array: true, index: 0 });
    else if (c === '}' || c === ']') frames.pop();
    else if (c === ',' && top) {
      if (top.array) top.index++;
      else top.expectsKey = true;
    }
  }
  const inName = stringStart >= 0 && stringIsName;
  const path = frames
    .slice(0, inName ? -1 : undefined)
    .map((frame) => (frame.array ? String(frame.index) : frame.key));
  if (path.length === 0 || path.includes(undefined)) return { inName };
  return { field: path.join('.'), inName };
}

function nameOf(quoted: string): string {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return quoted.slice(1, -1);
  }
}
