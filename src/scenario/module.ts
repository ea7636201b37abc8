import { pathToFileURL } from 'node:url';
import { UserError } from '../errors.js';

export type SetupHook = (ctx: {
  index: number;
  vars: Record<string, string>;
}) => Promise<Record<string, string>>;

/** A scenario module may export `setup(ctx)` for per-session logic a file cannot express. */
export async function loadSetupHook(file: string): Promise<SetupHook | undefined> {
  let mod: { setup?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { setup?: unknown };
  } catch (err) {
    throw new UserError(
      `Cannot load scenario module ${file}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (mod.setup === undefined) return undefined;
  if (typeof mod.setup !== 'function') throw new UserError(`${file}: export 'setup' must be a function`);
  const fn = mod.setup as SetupHook;
  return async (ctx) => {
    const r = await fn(ctx);
    if (r === undefined || r === null) return {};
    if (typeof r !== 'object') throw new Error('setup() must return an object of variables');
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(r)) out[k] = String(v);
    return out;
  };
}
