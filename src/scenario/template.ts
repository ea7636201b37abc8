import { randomUUID } from 'node:crypto';

// `{{name}}` templates, compiled once per scenario into a list of literal parts and slots, so a
// session's render is a few string concatenations and a template with no placeholder is free.
//
// Placeholders: `{{name}}`, `{{ name | filter | filter }}`, `{{env.NAME}}`. Names resolve in this
// order: a generated built-in (random, randomInt, uuid, timestamp), `env.*` from the environment,
// then the variables given to render() (constants, captures, and index/worker from the engine).
// A scenario file may come from someone else and its requests go out: `{{env.NAME}}` reads only
// names the user allowed (ENV_ALLOW_VAR, or the HOLDLINE_ prefix), never the whole environment.

/** Variables given to render(): scenario constants, captures, `index`, `worker`, `baseUrl`, … */
export type TemplateVars = Readonly<Record<string, string>>;
/** An environment map such as process.env. */
export type TemplateEnv = Readonly<Record<string, string | undefined>>;

/** Built-in names: `index` and `worker` come with the engine's vars; the rest are generated. */
export const BUILTIN_VARS = ['index', 'worker', 'random', 'randomInt', 'uuid', 'timestamp'] as const;
export const FILTERS = ['urlencode', 'json', 'base64'] as const;

/** Lists (comma or space separated) the environment variables templates may read. */
export const ENV_ALLOW_VAR = 'HOLDLINE_ENV_ALLOW';
/** Variables with this prefix may always be read. */
export const ENV_ALLOW_PREFIX = 'HOLDLINE_';

/** Null when `{{env.NAME}}` may read `name` from `env`, else why not (for the user). */
export function envRefusal(name: string, env: TemplateEnv): string | null {
  if (name.startsWith(ENV_ALLOW_PREFIX) && name !== ENV_ALLOW_VAR) return null;
  const allow = env[ENV_ALLOW_VAR];
  if (allow !== undefined && allow.split(/[\s,]+/).includes(name)) return null;
  return `environment variable ${name} is not allowed in templates: list it in ${ENV_ALLOW_VAR} (e.g. ${ENV_ALLOW_VAR}=${name}) or name it ${ENV_ALLOW_PREFIX}…`;
}
export type FilterName = (typeof FILTERS)[number];

/** A template that cannot be compiled (bad syntax) or rendered (unknown variable). */
export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

export interface Template {
  readonly source: string;
  /** Variables used, in order of first use (`env.NAME` included as such). */
  readonly vars: readonly string[];
  /** True when there is no placeholder: render() returns `source`. */
  readonly constant: boolean;
  /** `env` overrides the map given to compile(); without either, process.env is used. */
  render(vars: TemplateVars, env?: TemplateEnv): string;
}

export interface CompileOptions {
  env?: TemplateEnv;
}

const K_VAR = 0;
const K_ENV = 1;
const K_RANDOM = 2;
const K_RANDOM_INT = 3;
const K_UUID = 4;
const K_TIMESTAMP = 5;

const GENERATED = new Map<string, number>([
  ['random', K_RANDOM],
  ['randomInt', K_RANDOM_INT],
  ['uuid', K_UUID],
  ['timestamp', K_TIMESTAMP],
]);

interface Slot {
  kind: number;
  name: string; // as written: `token`, `env.API_KEY`
  key: string; // lookup key: `token`, `API_KEY`
  filters: FilterName[];
}

const NAME = /^(?:env\.[A-Za-z_][A-Za-z0-9_]*|[A-Za-z_][A-Za-z0-9_]*)$/;

class ConstTemplate implements Template {
  readonly vars: readonly string[] = [];
  readonly constant = true;
  constructor(readonly source: string) {}
  render(): string {
    return this.source;
  }
}

class SlotTemplate implements Template {
  readonly constant = false;
  readonly vars: readonly string[];
  constructor(
    readonly source: string,
    private readonly head: string,
    private readonly slots: Slot[],
    private readonly tails: string[], // literal after each slot
    private readonly env: TemplateEnv | undefined,
  ) {
    this.vars = [...new Set(slots.map((s) => s.name))];
  }

  render(vars: TemplateVars, env?: TemplateEnv): string {
    let out = this.head;
    for (let i = 0; i < this.slots.length; i++) {
      out += valueOf(this.slots[i], vars, env ?? this.env) + this.tails[i];
    }
    return out;
  }
}

function valueOf(slot: Slot, vars: TemplateVars, env: TemplateEnv | undefined): string {
  let v: string | undefined;
  switch (slot.kind) {
    case K_VAR:
      v = Object.hasOwn(vars, slot.key) ? vars[slot.key] : undefined;
      if (v === undefined) throw new TemplateError(`unknown variable {{${slot.name}}}`);
      break;
    case K_ENV: {
      const e = env ?? process.env;
      const refused = envRefusal(slot.key, e);
      if (refused !== null) throw new TemplateError(`${refused} ({{${slot.name}}})`);
      v = e[slot.key];
      if (v === undefined)
        throw new TemplateError(`environment variable ${slot.key} is not set ({{${slot.name}}})`);
      break;
    }
    case K_RANDOM:
      // 16 hex chars from the UUID generator's cached entropy: no syscall per render.
      v = randomUUID().replace(/-/g, '').slice(0, 16);
      break;
    case K_RANDOM_INT:
      v = String(Math.floor(Math.random() * 0x80000000));
      break;
    case K_UUID:
      v = randomUUID();
      break;
    case K_TIMESTAMP:
      v = String(Date.now());
      break;
    default:
      throw new TemplateError(`unknown placeholder kind for {{${slot.name}}}`);
  }
  for (const f of slot.filters) v = applyFilter(f, v);
  return v;
}

function applyFilter(f: FilterName, v: string): string {
  switch (f) {
    case 'urlencode':
      return encodeURIComponent(v);
    case 'json':
      return JSON.stringify(v); // a quoted JSON string, ready to sit in a JSON message
    case 'base64':
      return Buffer.from(v, 'utf8').toString('base64');
  }
}

/** Compiles `src` once; throws TemplateError on a malformed placeholder or an unknown filter. */
export function compile(src: string, opts: CompileOptions = {}): Template {
  let i = src.indexOf('{{');
  if (i < 0) return new ConstTemplate(src); // a lone `}}` is literal text
  const head = src.slice(0, i);
  const slots: Slot[] = [];
  const tails: string[] = [];
  while (i >= 0) {
    const end = src.indexOf('}}', i + 2);
    if (end < 0) throw new TemplateError(`unclosed {{ at offset ${i} in ${JSON.stringify(src)}`);
    slots.push(parseSlot(src.slice(i + 2, end), src));
    const next = src.indexOf('{{', end + 2);
    tails.push(src.slice(end + 2, next < 0 ? src.length : next));
    i = next;
  }
  return new SlotTemplate(src, head, slots, tails, opts.env);
}

function parseSlot(inner: string, src: string): Slot {
  const [rawName, ...rawFilters] = inner.split('|').map((p) => p.trim());
  if (!NAME.test(rawName)) {
    throw new TemplateError(
      `invalid placeholder {{${inner}}} in ${JSON.stringify(src)}: expected a variable name such as {{token}} or {{env.NAME}}`,
    );
  }
  const filters: FilterName[] = [];
  for (const f of rawFilters) {
    if (!(FILTERS as readonly string[]).includes(f)) {
      throw new TemplateError(
        `unknown filter "${f}" in {{${inner.trim()}}}: expected one of ${FILTERS.join(', ')}`,
      );
    }
    filters.push(f as FilterName);
  }
  if (rawName.startsWith('env.')) return { kind: K_ENV, name: rawName, key: rawName.slice(4), filters };
  return { kind: GENERATED.get(rawName) ?? K_VAR, name: rawName, key: rawName, filters };
}

// ---------------------------------------------------------------- JSON bodies

/** A JSON value whose string leaves are templates. */
export interface DeepTemplate {
  readonly vars: readonly string[];
  readonly constant: boolean;
  render(vars: TemplateVars, env?: TemplateEnv): unknown;
}

type Node = (vars: TemplateVars, env: TemplateEnv | undefined) => unknown;

/** Compiles every string leaf of `value` once (object keys stay literal). */
export function compileDeep(value: unknown, opts: CompileOptions = {}): DeepTemplate {
  const used: string[] = [];
  const node = compileNode(value, opts, used);
  if (node === null) return { vars: [], constant: true, render: () => value };
  return {
    vars: [...new Set(used)],
    constant: false,
    render: (vars, env) => node(vars, env ?? opts.env),
  };
}

/** Null when the subtree has no placeholder (it renders as itself). */
function compileNode(value: unknown, opts: CompileOptions, used: string[]): Node | null {
  if (typeof value === 'string') {
    const t = compile(value, opts);
    if (t.constant) return null;
    used.push(...t.vars);
    return (vars, env) => t.render(vars, env);
  }
  if (Array.isArray(value)) {
    const items = value.map((v) => compileNode(v, opts, used));
    if (items.every((n) => n === null)) return null;
    return (vars, env) => items.map((n, k) => (n === null ? value[k] : n(vars, env)));
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(([k, v]) => [k, v, compileNode(v, opts, used)] as const);
    if (entries.every((e) => e[2] === null)) return null;
    return (vars, env) => {
      const out: Record<string, unknown> = {};
      for (const [k, v, n] of entries) out[k] = n === null ? v : n(vars, env);
      return out;
    };
  }
  return null;
}

/** Renders `value` once; for repeated use, compileDeep() it. */
export function renderDeep(value: unknown, vars: TemplateVars, env?: TemplateEnv): unknown {
  return compileDeep(value).render(vars, env);
}

/** Variables used by a template (or deep template): the loader checks each is defined. */
export function templateVars(t: Template | DeepTemplate): string[] {
  return [...t.vars];
}

/** True for names every template can use without defining them. */
export function isBuiltinVar(name: string): boolean {
  return (BUILTIN_VARS as readonly string[]).includes(name);
}
