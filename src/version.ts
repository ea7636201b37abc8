import { readFileSync } from 'node:fs';

// dist/src/version.js → package.json two levels up.
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
