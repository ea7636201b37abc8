import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LineCounter, parseDocument } from 'yaml';
import type { ScenarioSpec } from '../contract.js';
import { UserError } from '../errors.js';
import { compilePath } from '../scenario/json-path.js';
import {
  formatPath,
  inDocumentOrder,
  isRecord,
  nearest,
  parseRequestLine,
  validateScenario,
  type Problem,
} from '../scenario/schema.js';
import {
  BUILTIN_VARS,
  compile,
  envRefusal,
  isBuiltinVar,
  templateVars,
  type TemplateEnv,
} from '../scenario/template.js';

// Loads a scenario from YAML, JSON or a JavaScript module, validates it once (format, templates,
// JSON paths, every variable defined before use) and returns it frozen. All problems are reported
// together in one UserError, each naming the file, the field and what was expected.

export type LoadedScenario = ScenarioSpec & { module?: string };

export interface LoadOptions {
  /** Relative paths resolve from here (default: the process's working directory). */
  cwd?: string;
  /** Variables supplied from outside the file (default: baseUrl, wsBaseUrl, wsUrl from the target URL). */
  supplied?: readonly string[];
}

/** Variables the CLI supplies from the target URL: `http(s)://host:port` and `ws(s)://host:port`. */
export const CLI_VARS = ['baseUrl', 'wsBaseUrl', 'wsUrl'] as const;

const DATA_EXT = ['.yaml', '.yml', '.json'];
const MODULE_EXT = ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'];

export async function loadScenario(
  file: string,
  env: TemplateEnv,
  opts: LoadOptions = {},
): Promise<LoadedScenario> {
  const abs = resolve(opts.cwd ?? process.cwd(), file);
  const ext = extname(abs).toLowerCase();
  let data: unknown;
  let modulePath: string | undefined;
  let setupHook = false;
  const problems: string[] = [];
  if (DATA_EXT.includes(ext)) {
    const text = await readText(abs, file);
    data = ext === '.json' ? parseJson(text, file, problems) : parseYaml(text, file, problems);
    if (problems.length > 0) throw invalid(file, problems);
    if (data === null || data === undefined)
      throw invalid(file, [`${file}: the file is empty; expected connect: { url: … }`]);
  } else if (MODULE_EXT.includes(ext)) {
    const mod = await importModule(abs, file, ext);
    data = mod.default ?? mod.scenario;
    if (data === undefined) {
      throw invalid(file, [
        `${file}: exports no scenario; expected \`export default { connect: { url: … } }\` or \`export const scenario = …\``,
      ]);
    }
    if (mod.setup !== undefined && typeof mod.setup !== 'function') {
      problems.push(
        `${file}: setup: expected an async function setup({ index, vars }) returning extra variables`,
      );
    }
    setupHook = typeof mod.setup === 'function';
    modulePath = abs;
  } else {
    throw new UserError(
      `Cannot load scenario ${file}: unsupported file type ${ext || '(none)'}`,
      `Use a .yaml, .yml or .json file, or a JavaScript module (.js, .mjs).`,
    );
  }

  const v = validateScenario(data);
  const found: Problem[] = v.ok ? [] : v.problems;
  checkReferences(data, { env, supplied: opts.supplied ?? CLI_VARS, setupHook }, (path, message) =>
    found.push({ path, message }),
  );
  for (const p of inDocumentOrder(found))
    problems.push(p.path ? `${file}: ${p.path}: ${p.message}` : `${file}: ${p.message}`);
  if (problems.length > 0 || !v.ok) throw invalid(file, [...new Set(problems)]);
  const out: LoadedScenario = modulePath ? { ...v.spec, module: modulePath } : v.spec;
  return deepFreeze(out);
}

function invalid(file: string, problems: string[]): UserError {
  const n = problems.length;
  return new UserError(
    `Invalid scenario ${file} (${n} problem${n === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    'Scenario fields: name, vars, http (steps), connect. See docs/scenarios.md.',
  );
}

async function readText(abs: string, file: string): Promise<string> {
  try {
    return (await readFile(abs, 'utf8')).replace(/^\uFEFF/, '');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`Scenario file not found: ${file}`);
    if (code === 'EISDIR') throw new UserError(`Scenario ${file} is a directory, not a file`);
    throw new UserError(`Cannot read scenario ${file}: ${code ?? (err as Error).message}`);
  }
}

function parseYaml(text: string, file: string, problems: string[]): unknown {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  for (const e of doc.errors) {
    const { line, col } = lc.linePos(e.pos[0]);
    problems.push(`${file}:${line}:${col}: YAML syntax: ${e.message}`);
  }
  if (problems.length > 0) return undefined;
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    problems.push(`${file}: YAML: ${err instanceof Error ? err.message : String(err)}`); // e.g. alias bombs
    return undefined;
  }
}

function parseJson(text: string, file: string, problems: string[]): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    // V8 gives the offset only in its message ("… at position 42", newer: "(line 3 column 5)").
    const msg = err instanceof Error ? err.message : String(err);
    const lc = /line (\d+) column (\d+)/.exec(msg);
    const pos = /position (\d+)/.exec(msg);
    let where = '';
    if (lc) where = `:${lc[1]}:${lc[2]}`;
    else if (pos) {
      const before = text.slice(0, Number(pos[1]));
      const line = before.split('\n').length;
      where = `:${line}:${before.length - before.lastIndexOf('\n')}`;
    }
    problems.push(`${file}${where}: JSON syntax: ${msg.replace(/\s*\(line \d+ column \d+\)/, '')}`);
    return undefined;
  }
}

async function importModule(abs: string, file: string, ext: string): Promise<Record<string, unknown>> {
  await readText(abs, file); // "not found" and the like, told apart from errors inside the module
  try {
    return (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_UNKNOWN_FILE_EXTENSION' && ext.endsWith('ts')) {
      throw new UserError(
        `Cannot load ${file}: this Node.js cannot import TypeScript directly`,
        'Compile it to JavaScript (for example with tsc) and pass the .js file, or use Node.js >= 22.6 with --experimental-strip-types.',
      );
    }
    throw new UserError(
      `Cannot load scenario module ${file}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

// ---------------------------------------------------------------- templates and variables

interface RefContext {
  env: TemplateEnv;
  supplied: readonly string[];
  setupHook: boolean;
}

/**
 * Every template must compile and use only variables defined before it runs: constants (vars),
 * built-ins, supplied ones (baseUrl, wsBaseUrl), or a capture of an earlier step. Reads the raw
 * file data defensively, so these problems are listed alongside type errors.
 */
function checkReferences(raw: unknown, ctx: RefContext, add: (path: string, message: string) => void): void {
  if (!isRecord(raw)) return;
  const supplied = new Set(ctx.supplied);
  const defined = new Set<string>([...BUILTIN_VARS, ...supplied]);
  const capturedBy = new Map<string, number>(); // every capture, to explain "captured too late"
  const steps = Array.isArray(raw.http) ? raw.http : [];
  steps.forEach((s, i) => {
    if (isRecord(s) && isRecord(s.capture))
      for (const k of Object.keys(s.capture)) if (!capturedBy.has(k)) capturedBy.set(k, i);
  });

  const newName = (path: string, k: string, what: string): void => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
      add(path, `${what} names are letters, digits and _, not starting with a digit`);
    else if (k === '__proto__') add(path, `"${k}" cannot be a variable name`);
    else if (isBuiltinVar(k)) add(path, `"${k}" is a built-in variable; choose another name`);
    else if (supplied.has(k)) add(path, `"${k}" is supplied from the target URL; choose another name`);
  };
  const template = (path: string, src: unknown, checkVars = true): void => {
    if (typeof src !== 'string') return;
    let used: string[];
    try {
      used = templateVars(compile(src));
    } catch (err) {
      return add(path, (err as Error).message);
    }
    for (const name of used) {
      if (name.startsWith('env.')) {
        const refused = envRefusal(name.slice(4), ctx.env);
        if (refused !== null) add(path, `{{${name}}}: ${refused}`);
        else if (ctx.env[name.slice(4)] === undefined)
          add(path, `{{${name}}}: environment variable ${name.slice(4)} is not set`);
      } else if (checkVars && !defined.has(name)) {
        const later = capturedBy.get(name);
        const near = nearest(name, defined);
        add(
          path,
          later !== undefined
            ? `{{${name}}} is captured only by a later step (http[${later}]); steps run in order`
            : near !== undefined
              ? `unknown variable {{${name}}}; did you mean {{${near}}}?`
              : `unknown variable {{${name}}}: define it under vars, capture it in an earlier http step, or use a built-in (${[...BUILTIN_VARS, ...supplied].join(', ')})`,
        );
      }
    }
  };
  const deep = (path: (string | number)[], v: unknown, checkVars = true): void => {
    if (typeof v === 'string') template(formatPath(path), v, checkVars);
    else if (Array.isArray(v)) v.forEach((x, i) => deep([...path, i], x, checkVars));
    else if (isRecord(v)) for (const [k, x] of Object.entries(v)) deep([...path, k], x, checkVars);
  };

  if (isRecord(raw.vars)) {
    for (const [k, v] of Object.entries(raw.vars)) {
      const path = formatPath(['vars', k]);
      newName(path, k, 'variable');
      if (typeof v === 'string' && v.includes('{{')) {
        add(
          path,
          'vars are constants, not templates: put the placeholder (such as {{env.NAME}}) where the value is used',
        );
      }
      defined.add(k);
    }
  }
  steps.forEach((s, i) => {
    if (!isRecord(s)) return;
    const at = (...rest: (string | number)[]): string => formatPath(['http', i, ...rest]);
    const [urlPath, url] =
      typeof s.request === 'string' ? [at('request'), parseRequestLine(s.request)?.[1]] : [at('url'), s.url];
    template(urlPath, url);
    if (typeof url === 'string') checkScheme(urlPath, url, ['http', 'https'], add);
    if (isRecord(s.headers)) for (const [k, v] of Object.entries(s.headers)) template(at('headers', k), v);
    deep(['http', i, 'json'], s.json);
    template(at('body'), s.body);
    if (isRecord(s.capture)) {
      for (const [k, p] of Object.entries(s.capture)) {
        newName(at('capture', k), k, 'capture');
        if (typeof p !== 'string') continue;
        try {
          compilePath(p);
        } catch (err) {
          add(at('capture', k), (err as Error).message);
        }
      }
      for (const k of Object.keys(s.capture)) defined.add(k);
    }
  });
  if (isRecord(raw.connect)) {
    const c = raw.connect;
    // A module's setup() runs after the steps and may define anything the connection uses.
    const checkVars = !ctx.setupHook;
    template('connect.url', c.url, checkVars);
    if (typeof c.url === 'string') checkScheme('connect.url', c.url, ['ws', 'wss', 'http', 'https'], add);
    if (isRecord(c.headers))
      for (const [k, v] of Object.entries(c.headers))
        template(formatPath(['connect', 'headers', k]), v, checkVars);
    if (c.send !== undefined) deep(['connect', 'send'], c.send, checkVars);
    if (isRecord(c.expect) && typeof c.expect.jsonPath === 'string') {
      try {
        compilePath(c.expect.jsonPath);
      } catch (err) {
        add('connect.expect.jsonPath', (err as Error).message);
      }
    }
  }
}

/** A literal scheme at the start of a URL template must be one of `schemes`. */
function checkScheme(
  path: string,
  url: string,
  schemes: string[],
  add: (p: string, m: string) => void,
): void {
  const head = url.trim().split('{{')[0];
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(head);
  const list = schemes.map((s) => `${s}://`).join(', ');
  if (m && !schemes.includes(m[1].toLowerCase())) add(path, `expected a ${list} URL, got ${m[1]}://`);
  else if (!m && head === url.trim())
    add(
      path,
      `expected an absolute ${list} URL (or one starting with a variable such as {{baseUrl}}), got ${JSON.stringify(url)}`,
    );
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}
