import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TemplateError,
  compile,
  compileDeep,
  isBuiltinVar,
  renderDeep,
  templateVars,
} from '../../src/scenario/template.js';

const vars = { index: '7', worker: '1', token: 'a b&c', name: 'Zoë "Z"' };

test('a template without placeholders renders its source and uses no variables', () => {
  const t = compile('{"type":"hello","nested":{"a":1}}');
  assert.equal(t.constant, true);
  assert.deepEqual(templateVars(t), []);
  assert.equal(t.render({}), '{"type":"hello","nested":{"a":1}}');
});

test('placeholders render from vars, with spaces allowed inside the braces', () => {
  const t = compile('ws://h/ws?token={{token}}&i={{ index }}/{{worker}}{{index}}');
  assert.equal(t.constant, false);
  assert.deepEqual(templateVars(t), ['token', 'index', 'worker']);
  assert.equal(t.render(vars), 'ws://h/ws?token=a b&c&i=7/17');
});

test('a placeholder at the start and end, and adjacent placeholders', () => {
  assert.equal(compile('{{index}}').render(vars), '7');
  assert.equal(compile('{{index}}{{worker}}').render(vars), '71');
  assert.equal(compile('x{{index}}y').render(vars), 'x7y');
});

test('generated built-ins: random, randomInt, uuid, timestamp', () => {
  const t = compile('{{random}}|{{randomInt}}|{{uuid}}|{{timestamp}}');
  const before = Date.now();
  const [random, randomInt, uuid, ts] = t.render({}).split('|');
  const after = Date.now();
  assert.match(random, /^[0-9a-f]{16}$/);
  assert.match(randomInt, /^\d+$/);
  assert.ok(Number(randomInt) < 2 ** 31);
  assert.match(uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.ok(Number(ts) >= before && Number(ts) <= after, `${ts} within [${before}, ${after}]`);
  // Fresh values per render.
  const a = compile('{{random}}{{uuid}}');
  assert.notEqual(a.render({}), a.render({}));
});

test('built-in names are known, generated ones need no vars, index and worker come from vars', () => {
  for (const n of ['index', 'worker', 'random', 'randomInt', 'uuid', 'timestamp'])
    assert.ok(isBuiltinVar(n), n);
  assert.equal(isBuiltinVar('token'), false);
  assert.throws(() => compile('{{index}}').render({}), /unknown variable \{\{index\}\}/);
});

test('env.NAME reads the env given at render, else at compile, else process.env', () => {
  const allow = { HOLDLINE_ENV_ALLOW: 'OTHER, API_KEY' };
  const t = compile('key={{env.API_KEY}}', { env: { API_KEY: 'compiled', ...allow } });
  assert.deepEqual(templateVars(t), ['env.API_KEY']);
  assert.equal(t.render({}), 'key=compiled');
  assert.equal(t.render({}, { API_KEY: 'rendered', ...allow }), 'key=rendered');
  const name = `HOLDLINE_TEST_${process.pid}`;
  process.env[name] = 'from-process';
  try {
    assert.equal(compile(`{{env.${name}}}`).render({}), 'from-process');
  } finally {
    delete process.env[name];
  }
  assert.throws(
    () => compile('{{env.HOLDLINE_NOPE_NOT_SET}}').render({}, {}),
    (e: unknown) =>
      e instanceof TemplateError && /environment variable HOLDLINE_NOPE_NOT_SET is not set/.test(e.message),
  );
});

test('env.NAME reads only names the user allowed: HOLDLINE_ENV_ALLOW or the HOLDLINE_ prefix', () => {
  const env = { AWS_SECRET_ACCESS_KEY: 'secret', HOLDLINE_TOKEN: 't', HOLDLINE_ENV_ALLOW: 'API_KEY' };
  const refused = (src: string): void =>
    assert.throws(
      () => compile(src).render({}, env),
      (e: unknown) => e instanceof TemplateError && /is not allowed in templates/.test(e.message),
    );
  refused('{{env.AWS_SECRET_ACCESS_KEY}}');
  refused('{{env.HOLDLINE_ENV_ALLOW}}');
  refused('{{env.API}}'); // a list entry, not a prefix
  assert.equal(compile('{{env.HOLDLINE_TOKEN}}').render({}, env), 't');
  assert.equal(compile('{{env.API_KEY}}').render({}, { ...env, API_KEY: 'k' }), 'k');
});

test('filters: urlencode, json, base64, chained', () => {
  assert.equal(compile('{{token | urlencode}}').render(vars), 'a%20b%26c');
  assert.equal(compile('{"name":{{name|json}}}').render(vars), '{"name":"Zoë \\"Z\\""}');
  assert.deepEqual(JSON.parse(compile('{"name":{{name|json}}}').render(vars)), { name: 'Zoë "Z"' });
  assert.equal(compile('{{token | base64}}').render(vars), Buffer.from('a b&c').toString('base64'));
  assert.equal(
    compile('{{token | base64 | urlencode}}').render({ token: '\xff\xfe?' }),
    encodeURIComponent(Buffer.from('\xff\xfe?').toString('base64')),
  );
});

test('an unknown variable at render is an error naming it', () => {
  const t = compile('Bearer {{token}} {{chatId}}');
  assert.throws(
    () => t.render({ token: 'x' }),
    (e: unknown) => e instanceof TemplateError && e.message === 'unknown variable {{chatId}}',
  );
  // Inherited properties are not variables.
  assert.throws(() => compile('{{constructor}}').render({}), /unknown variable \{\{constructor\}\}/);
});

test('malformed placeholders and unknown filters fail at compile', () => {
  assert.throws(() => compile('a {{token'), /unclosed \{\{/);
  assert.throws(() => compile('{{ }}'), /invalid placeholder/);
  assert.throws(() => compile('{{a b}}'), /invalid placeholder/);
  assert.throws(() => compile('{{1abc}}'), /invalid placeholder/);
  assert.throws(() => compile('{{token | upper}}'), /unknown filter "upper"/);
});

test('compileDeep templates string leaves, keeps other values and keys, and is constant when it can be', () => {
  const body = {
    userId: 'load-{{index}}',
    n: 3,
    ok: true,
    none: null,
    list: ['{{worker}}', 1],
    '{{index}}': 'k',
  };
  const d = compileDeep(body);
  assert.equal(d.constant, false);
  assert.deepEqual(templateVars(d), ['index', 'worker']);
  assert.deepEqual(d.render(vars), {
    userId: 'load-7',
    n: 3,
    ok: true,
    none: null,
    list: ['1', 1],
    '{{index}}': 'k',
  });
  // The source is not modified.
  assert.equal(body.userId, 'load-{{index}}');

  const fixed = { a: [1, 'x'], b: { c: 'y' } };
  const c = compileDeep(fixed);
  assert.equal(c.constant, true);
  assert.equal(c.render({}), fixed);
  assert.equal(compileDeep('{{token}}').render(vars), 'a b&c');
  assert.deepEqual(renderDeep({ t: '{{token}}' }, vars), { t: 'a b&c' });
  assert.throws(() => compileDeep({ a: ['{{nope}}'] }).render(vars), /unknown variable \{\{nope\}\}/);
});
