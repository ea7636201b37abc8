import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';

// Every result a test reads is checked against the published schema (schema/result-v1.json).

const SCHEMA = fileURLToPath(new URL('../../../schema/result-v1.json', import.meta.url));
let validate: ValidateFunction | null = null;

export function assertValidResult(doc: unknown, what = 'result'): void {
  if (!validate) {
    const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
    validate = ajv.compile(JSON.parse(readFileSync(SCHEMA, 'utf8')));
  }
  const ok = validate(doc);
  assert.ok(ok, `${what} matches schema/result-v1.json: ${JSON.stringify(validate.errors?.slice(0, 5))}`);
}
