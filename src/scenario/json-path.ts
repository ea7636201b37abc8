// A small JSON path for captures and expectations, parsed once: `token`, `$.token`, `data.chat.id`,
// `items[0].id`, `items[-1]` (from the end), `items.0.id`, `$['odd key']`, `$` (the whole document).
// Only own properties are followed, so `constructor` or `__proto__` never reach a prototype.

export class JsonPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonPathError';
  }
}

type Segment = string | number; // property name | array index (negative: from the end)

export interface JsonPath {
  readonly source: string;
  readonly segments: readonly Segment[];
  /** The value at the path, or undefined when any part is missing. */
  get(doc: unknown): unknown | undefined;
}

/** Parses `path` once; throws JsonPathError naming the offset of a syntax error. */
export function compilePath(path: string): JsonPath {
  const segments = parse(path);
  return {
    source: path,
    segments,
    get: (doc) => walk(doc, segments),
  };
}

const cache = new Map<string, JsonPath>();

/** One-off lookup; compiled paths are cached (bounded) by their text. */
export function getPath(obj: unknown, path: string): unknown | undefined {
  let p = cache.get(path);
  if (!p) {
    p = compilePath(path);
    if (cache.size >= 1000) cache.clear();
    cache.set(path, p);
  }
  return p.get(obj);
}

function walk(doc: unknown, segments: readonly Segment[]): unknown | undefined {
  let cur: unknown = doc;
  for (const seg of segments) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (Array.isArray(cur)) {
      const i = typeof seg === 'number' ? seg : /^(0|[1-9]\d*)$/.test(seg) ? Number(seg) : NaN;
      if (!Number.isInteger(i)) return undefined;
      cur = cur[i < 0 ? cur.length + i : i];
    } else {
      const key = String(seg);
      if (!Object.hasOwn(cur, key)) return undefined;
      cur = (cur as Record<string, unknown>)[key];
    }
  }
  return cur;
}

function parse(src: string): Segment[] {
  const s = src.trim();
  const out: Segment[] = [];
  let i = 0;
  const fail = (what: string): never => {
    throw new JsonPathError(`invalid JSON path ${JSON.stringify(src)}: ${what} at offset ${i}`);
  };
  if (s.length === 0) fail('empty path');
  if (s[0] === '$') {
    i = 1;
  } else if (s[0] !== '[') {
    i = readName(s, 0, out, fail); // a leading bare name: `token`, `data.chat`
  }
  while (i < s.length) {
    const c = s[i];
    if (c === '.') {
      i = readName(s, i + 1, out, fail);
    } else if (c === '[') {
      i = readBracket(s, i, out, fail);
    } else {
      fail(`unexpected ${JSON.stringify(c)}`);
    }
  }
  return out;
}

function readName(s: string, from: number, out: Segment[], fail: (w: string) => never): number {
  let j = from;
  while (j < s.length && s[j] !== '.' && s[j] !== '[') j++;
  const name = s.slice(from, j);
  if (name.length === 0 || /\s/.test(name)) fail('expected a property name');
  out.push(name);
  return j;
}

function readBracket(s: string, from: number, out: Segment[], fail: (w: string) => never): number {
  const q = s[from + 1];
  if (q === "'" || q === '"') {
    let j = from + 2;
    let key = '';
    while (j < s.length && s[j] !== q) {
      if (s[j] === '\\' && j + 1 < s.length) j++;
      key += s[j++];
    }
    if (j >= s.length || s[j + 1] !== ']') fail(`unclosed [${q}`);
    out.push(key);
    return j + 2;
  }
  const close = s.indexOf(']', from);
  const inner = close < 0 ? '' : s.slice(from + 1, close).trim();
  if (!/^-?\d+$/.test(inner)) fail("expected [index] or ['key']");
  out.push(Number(inner));
  return close + 1;
}
