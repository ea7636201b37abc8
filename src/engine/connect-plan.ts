import type { ConnectSpec, ExpectSpec } from '../contract.js';
import { compile, type Template, type TemplateEnv } from '../scenario/template.js';
import { compilePath } from '../scenario/json-path.js';

/** A scenario's connection, compiled once per step: templates and the first-message check. */
export interface ConnectPlan {
  url: Template;
  headers: [string, Template][];
  send: Template[];
  expect: ExpectCheck | null;
}

export interface ExpectCheck {
  /** Returns null when the first message matches, else what was wrong. */
  check(data: Buffer): string | null;
}

export function compileConnect(spec: ConnectSpec, env: TemplateEnv): ConnectPlan {
  return {
    url: compile(spec.url, { env }),
    headers: Object.entries(spec.headers ?? {}).map(([k, v]) => [k, compile(v, { env })]),
    send: (spec.send ?? []).map((m) => compile(m, { env })),
    expect: spec.expect ? compileExpect(spec.expect) : null,
  };
}

function compileExpect(e: ExpectSpec): ExpectCheck {
  const path = e.jsonPath !== undefined ? compilePath(e.jsonPath) : null;
  return {
    check(data: Buffer): string | null {
      const text = data.toString('utf8');
      if (e.contains !== undefined && !text.includes(e.contains)) {
        return `first message does not contain ${JSON.stringify(e.contains)}`;
      }
      if (path) {
        let doc: unknown;
        try {
          doc = JSON.parse(text);
        } catch {
          return 'first message is not JSON';
        }
        const got = path.get(doc);
        if (got === undefined) return `first message has no ${e.jsonPath}`;
        if (e.equals !== undefined && got !== e.equals) {
          return `first message ${e.jsonPath} is ${JSON.stringify(got)}, expected ${JSON.stringify(e.equals)}`;
        }
      }
      return null;
    },
  };
}
