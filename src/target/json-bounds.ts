// Bounds on client JSON. V8's JSON.parse copes with any nesting, but JSON.stringify (and any
// recursive walk) overflows the stack on a few thousand levels, so a message nested deeper than
// MAX_JSON_DEPTH is refused before it is parsed: one pass over the bytes, no allocation.

/** Deepest nesting of objects and arrays accepted in a client message or request body. */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJ = 0x7b;
const OPEN_ARR = 0x5b;
const CLOSE_OBJ = 0x7d;
const CLOSE_ARR = 0x5d;

/** True when the JSON text in `buf` nests objects and arrays deeper than `max` (strings skipped). */
export function nestedDeeper(buf: Uint8Array, max: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i];
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) inString = true;
    else if (b === OPEN_OBJ || b === OPEN_ARR) {
      if (++depth > max) return true;
    } else if (b === CLOSE_OBJ || b === CLOSE_ARR) depth--;
  }
  return false;
}
