import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli, type CliRun } from '../helpers/cli.js';
import { startTarget } from '../helpers/target.js';
import { TokenAuth } from '../../src/target/auth.js';

// Issue 19: no secret in any output. The commands run against the reference target with secrets
// given every way a user gives them (-H, ?token= in the URL, a --redact name, --publish-header, a
// token captured by a scenario step whose failure quotes it), then every file they wrote and
// everything they printed is searched for those values.

const HEADER = 'hdr-SECRET-6b1f';
const QUERY = 'qry-SECRET-9c2e';
const CUSTOM = 'cst-SECRET-4d7a';
const PUBLISH = 'pub-SECRET-1e8b';
const COOKIE = 'ck-SECRET-3f5c';

test('secrets from -H, ?token=, --redact, --publish-header and captures reach no output', async () => {
  const t = await startTarget({ auth: 'none' });
  after(() => t.close());
  // The tokens the target hands out, as the scenario captures them (the real issuer, observed).
  const issued: string[] = [];
  const issue = TokenAuth.prototype.issue;
  TokenAuth.prototype.issue = function (this: TokenAuth, ...a: Parameters<typeof issue>) {
    const r = issue.apply(this, a);
    issued.push(r.token);
    return r;
  };
  after(() => void (TokenAuth.prototype.issue = issue));

  const dir = mkdtempSync(path.join(tmpdir(), 'holdline-secrets-'));
  const scenario = path.join(dir, 'leaky.yaml');
  // The second step's 404 quotes its path, so its failure detail holds the captured token.
  writeFileSync(
    scenario,
    [
      'name: leaky',
      'http:',
      '  - name: token',
      '    request: POST {{baseUrl}}/auth/token',
      '    json: { userId: "u-{{index}}" }',
      '    capture: { token: token }',
      '  - name: echo',
      '    request: GET {{baseUrl}}/echo/{{token}}',
      'connect:',
      '  url: "{{wsBaseUrl}}/ws?token={{token}}"',
      '',
    ].join('\n'),
  );
  const out = path.join(dir, 'out');
  const common = ['--out', out, '--no-progress'];
  const url = `${t.wsUrl}?token=${QUERY}&room=1`;
  const secretHeaders = [
    '-H',
    `Authorization: Bearer ${HEADER}`,
    '-H',
    `X-Custom: ${CUSTOM}`,
    '-H',
    `Cookie: sid=${COOKIE}`,
    '--redact',
    'X-Custom',
  ];
  const runs: CliRun[] = [];
  for (const format of ['json', 'emf']) {
    runs.push(
      await runCli(['capacity', url, ...secretHeaders, '--points', '2', '--log-format', format, ...common]),
    );
  }
  runs.push(
    await runCli(['run', t.wsUrl, '--scenario', scenario, '-n', '2', '--log-format', 'json', ...common]),
  );
  runs.push(
    await runCli([
      'broadcast',
      '2',
      '1',
      '1s',
      '--subscribe-url',
      `${t.url}/events?token=${QUERY}`,
      '--publish-url',
      `${t.url}/codes`,
      '--publish-header',
      `X-Api-Key: ${PUBLISH}`,
      '--collect',
      '1s',
      '--log-format',
      'json',
      ...common,
    ]),
  );
  for (const r of runs) assert.notEqual(r.code, 2, r.stderr);
  assert.equal(issued.length, 2, 'the scenario captured one token per session');

  const files = readdirSync(out).map((f) => path.join(out, f));
  assert.equal(files.filter((f) => f.endsWith('.json')).length, 4, 'one result per command');
  assert.equal(files.filter((f) => f.endsWith('.html')).length, 4, 'and its HTML report, searched too');
  const outputs = [
    ...files.map((f) => ({ name: path.basename(f), text: readFileSync(f, 'utf8') })),
    ...runs.flatMap((r, i) => [
      { name: `stdout ${i}`, text: r.stdout },
      { name: `stderr ${i}`, text: r.stderr },
    ]),
  ];
  const secrets = [HEADER, QUERY, CUSTOM, PUBLISH, COOKIE, ...issued];
  for (const o of outputs) {
    for (const s of secrets) assert.ok(!o.text.includes(s), `${o.name} holds a secret (${s.slice(0, 8)}…)`);
  }
  // The places the secrets were are there, hidden: the search looked where they would be.
  const all = outputs.map((o) => o.text).join('\n');
  assert.match(all, /"Authorization": "\[redacted\]"/);
  assert.match(all, /"X-Custom": "\[redacted\]"/);
  assert.match(all, /"X-Api-Key": "\[redacted\]"/);
  assert.match(all, /token=\[redacted\]&room=1/);
  assert.match(all, /no route \/echo\/\[redacted\]/);
});
