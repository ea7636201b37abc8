import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScenarioSpec } from '../../src/contract.js';
import { UserError } from '../../src/errors.js';
import { loadScenario } from '../../src/cli/load-scenario.js';
import { formatPath, inferTransport, parseDuration, validateScenario } from '../../src/scenario/schema.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'holdline-scenario-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

/** The UserError's problem lines (after the header line). */
async function problemsOf(p: Promise<unknown>): Promise<string[]> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
    const [head, ...lines] = err.message.split('\n');
    assert.match(head, /^Invalid scenario .+ \(\d+ problems?\):$/);
    assert.equal(Number(/\((\d+) problem/.exec(head)?.[1]), lines.length, 'the count matches the list');
    return lines.map((l) => l.replace(/^ {2}- /, ''));
  }
  assert.fail('expected the load to fail');
}

const GOOD_YAML = `
name: token-chat-ws
vars: { userPrefix: load, n: 3 }
http:
  - name: token
    request: POST {{baseUrl}}/auth/token        # or method: + url:
    json: { userId: "{{userPrefix}}-{{index}}", n: 1 }
    expect: 200
    capture: { token: token }
  - name: chat
    method: post
    url: "{{baseUrl}}/chats"
    headers: { Authorization: "Bearer {{token}}", X-Count: 2 }
    expect: [200, 201]
    capture: { chatId: data.chatId }
    timeout: 1m30s
  - name: ping
    request: "{{baseUrl}}/health?i={{random}}"
    body: "plain {{chatId}}"
connect:
  url: "{{wsBaseUrl}}/ws?token={{token}}&chat={{chatId}}"
  headers: {}
  protocols: chat.v1
  send: ['{"type":"hello"}', { type: join, chat: "{{chatId}}" }]
  expect: { jsonPath: type, equals: welcome, timeout: 5s }
`;

const GOOD_SPEC: ScenarioSpec = {
  name: 'token-chat-ws',
  vars: { userPrefix: 'load', n: '3' },
  http: [
    {
      name: 'token',
      method: 'POST',
      url: '{{baseUrl}}/auth/token',
      body: { userId: '{{userPrefix}}-{{index}}', n: 1 },
      expectStatus: [200],
      capture: { token: 'token' },
    },
    {
      name: 'chat',
      method: 'POST',
      url: '{{baseUrl}}/chats',
      headers: { Authorization: 'Bearer {{token}}', 'X-Count': '2' },
      expectStatus: [200, 201],
      capture: { chatId: 'data.chatId' },
      timeoutMs: 90_000,
    },
    { name: 'ping', method: 'GET', url: '{{baseUrl}}/health?i={{random}}', body: 'plain {{chatId}}' },
  ],
  connect: {
    transport: 'ws',
    url: '{{wsBaseUrl}}/ws?token={{token}}&chat={{chatId}}',
    headers: {},
    protocols: ['chat.v1'],
    send: ['{"type":"hello"}', '{"type":"join","chat":"{{chatId}}"}'],
    expect: { jsonPath: 'type', equals: 'welcome', timeoutMs: 5000 },
  },
};

test('a good YAML file loads to the exact ScenarioSpec, frozen', async () => {
  const s = await loadScenario(await write('good.yaml', GOOD_YAML), {});
  assert.deepEqual(s, GOOD_SPEC);
  assert.equal(s.module, undefined);
  assert.ok(Object.isFrozen(s) && Object.isFrozen(s.http[0].body));
});

test('the same scenario as JSON loads to the same spec; relative paths resolve from cwd', async () => {
  const asJson = JSON.parse(JSON.stringify(GOOD_SPEC)) as Record<string, unknown>;
  const file = {
    name: 'token-chat-ws',
    vars: { userPrefix: 'load', n: 3 },
    http: [
      {
        name: 'token',
        request: 'POST {{baseUrl}}/auth/token',
        json: { userId: '{{userPrefix}}-{{index}}', n: 1 },
        expect: 200,
        capture: { token: 'token' },
      },
      {
        name: 'chat',
        method: 'POST',
        url: '{{baseUrl}}/chats',
        headers: { Authorization: 'Bearer {{token}}', 'X-Count': 2 },
        expect: [200, 201],
        capture: { chatId: 'data.chatId' },
        timeout: 90000,
      },
      { name: 'ping', url: '{{baseUrl}}/health?i={{random}}', body: 'plain {{chatId}}' },
    ],
    connect: {
      transport: 'ws',
      url: '{{wsBaseUrl}}/ws?token={{token}}&chat={{chatId}}',
      headers: {},
      protocols: ['chat.v1'],
      send: ['{"type":"hello"}', { type: 'join', chat: '{{chatId}}' }],
      expect: { jsonPath: 'type', equals: 'welcome', timeout: '5s' },
    },
  };
  await write('good.json', JSON.stringify(file, null, 2));
  assert.deepEqual(await loadScenario('good.json', {}, { cwd: dir }), asJson);
});

test('a malformed file gives one UserError listing every problem with file and field path', async () => {
  const file = await write(
    'bad.yaml',
    `
name: 5
vars: { ok: fine, "bad-name": x, index: 1 }
http:
  - name: token
    request: POST {{baseUrl}}/auth/token
    expect: "two hundred"
    capture: { token: 5 }
    retries: 3
  - name: chat
    method: POST
    headers: { Authorization: "Bearer {{token}} {{chatId}}" }
  - name: token
    request: FETCH {{baseUrl}}/x
    timeout: soon
connect:
  transport: websocket
  headers: { X: [1] }
  expect: { equals: 1 }
  extra: true
`,
  );
  const lines = await problemsOf(loadScenario(file, {}));
  const want: [string, RegExp][] = [
    ['name', /expected a scenario name, got number 5/],
    ['vars.bad-name', /variable names are letters, digits and _/],
    ['vars.index', /"index" is a built-in variable/],
    ['http[0].expect', /expected a status code such as 200, or a list/],
    ['http[0].capture.token', /expected a JSON path such as token or data.chat.id, got number 5/],
    ['http[0].retries', /unknown field; expected one of: name, request, method, url/],
    ['http[1].url', /required: the URL to call/],
    ['http[1].headers.Authorization', /unknown variable \{\{chatId\}\}/],
    ['http[2].name', /duplicate step name "token"/],
    ['http[2].request', /expected "METHOD URL"/],
    ['http[2].timeout', /expected a duration such as 500ms, 5s or 2m/],
    ['connect.transport', /expected ws or sse, got "websocket"/],
    ['connect.url', /required: the connection URL/],
    ['connect.headers.X', /expected a header value, got a list/],
    ['connect.expect', /expected contains: \(text\) or jsonPath:/],
    ['connect.expect.equals', /equals: needs jsonPath:/],
    ['connect.extra', /unknown field/],
  ];
  for (const [path, re] of want) {
    const hit = lines.find((l) => l.startsWith(`${file}: ${path}: `) && re.test(l));
    assert.ok(hit, `no problem for ${path} ${re} in:\n${lines.join('\n')}`);
  }
  assert.equal(lines.length, want.length, `exactly the problems expected:\n${lines.join('\n')}`);
});

test('a missing connect, an empty file and a scalar document are reported plainly', async () => {
  const noConnect = await write('no-connect.yaml', 'name: x\n');
  assert.deepEqual(await problemsOf(loadScenario(noConnect, {})), [
    `${noConnect}: connect: required: the connection: { url: … }`,
  ]);
  const empty = await write('empty.yaml', '# nothing\n');
  assert.deepEqual(await problemsOf(loadScenario(empty, {})), [
    `${empty}: the file is empty; expected connect: { url: … }`,
  ]);
  const scalar = await write('scalar.json', '"ws://x"');
  const [only] = await problemsOf(loadScenario(scalar, {}));
  assert.match(only, /^.*scalar\.json: expected a scenario: an object with connect/);
});

test('unknown fields suggest the near name', async () => {
  const f = await write('typo.yaml', 'connect: { url: "ws://h/ws", hedaers: {} }\n');
  const [line] = await problemsOf(loadScenario(f, {}));
  assert.match(line, /connect\.hedaers: unknown field; did you mean headers\?/);
});

test('YAML and JSON syntax errors name the file and line', async () => {
  const y = await write('syntax.yaml', 'name: x\nconnect:\n  url: "ws://h\n  bad: [\n');
  const yl = await problemsOf(loadScenario(y, {}));
  assert.ok(yl.length >= 1);
  assert.match(yl[0], new RegExp(`^${escape(y)}:\\d+:\\d+: YAML syntax: `));
  const dup = await write('dup.yaml', 'connect:\n  url: ws://a\n  url: ws://b\n');
  assert.match(
    (await problemsOf(loadScenario(dup, {})))[0],
    new RegExp(`^${escape(dup)}:3:3: YAML syntax: .*`),
  );
  const j = await write('syntax.json', '{\n  "connect": {\n    "url": "ws://h",\n  }\n}\n');
  const [jl] = await problemsOf(loadScenario(j, {}));
  assert.match(jl, new RegExp(`^${escape(j)}:4:\\d+: JSON syntax: `));
});

test('variables: defined by vars, built-ins, baseUrl/wsBaseUrl, or an earlier capture; env must be set', async () => {
  const f = await write(
    'vars.yaml',
    `
vars: { a: "1", b: "{{env.X}}" }
http:
  - name: one
    request: "GET {{baseUrl}}/x?c={{later}}&k={{env.KEY}}&u={{uuid}}&w={{worker}}"
    capture: { mine: x, uuid: y, "__proto__": z }
  - name: two
    request: "GET {{baseUrl}}/y?m={{mine}}&a={{a}}&t={{ts}}"
    capture: { later: z }
connect:
  url: "{{wsBaseUrl}}/ws?{{later}}{{mine}}{{nope}}{{env.MISSING}}{{ later | shout }}"
`,
  );
  const lines = await problemsOf(loadScenario(f, { KEY: 'k', HOLDLINE_ENV_ALLOW: 'KEY' }));
  const expectLines: [string, RegExp][] = [
    ['vars.b', /vars are constants, not templates/],
    ['http[0].request', /\{\{later\}\} is captured only by a later step \(http\[1\]\)/],
    ['http[0].capture.uuid', /"uuid" is a built-in variable/],
    ['http[0].capture.__proto__', /"__proto__" cannot be a variable name/],
    [
      'http[1].request',
      /unknown variable \{\{ts\}\}: define it under vars, capture it in an earlier http step, or use a built-in \(index, worker, random, randomInt, uuid, timestamp, baseUrl, wsBaseUrl, wsUrl\)/,
    ],
    ['connect.url', /unknown filter "shout"/],
  ];
  for (const [path, re] of expectLines) {
    assert.ok(
      lines.some((l) => l.startsWith(`${f}: ${path}: `) && re.test(l)),
      `no ${path} ${re} in:\n${lines.join('\n')}`,
    );
  }
  assert.equal(lines.length, expectLines.length, lines.join('\n'));

  // The filter error hides the rest of connect.url; without it, each unknown name is listed.
  const g = await write('vars2.yaml', 'connect:\n  url: "{{wsBaseUrl}}/ws?{{nope}}{{env.MISSING}}"\n');
  assert.deepEqual(await problemsOf(loadScenario(g, { HOLDLINE_ENV_ALLOW: 'MISSING' })), [
    `${g}: connect.url: unknown variable {{nope}}: define it under vars, capture it in an earlier http step, or use a built-in (index, worker, random, randomInt, uuid, timestamp, baseUrl, wsBaseUrl, wsUrl)`,
    `${g}: connect.url: {{env.MISSING}}: environment variable MISSING is not set`,
  ]);
  // Set but not allowed: refused, whatever its value.
  assert.deepEqual((await problemsOf(loadScenario(g, { MISSING: '1' }))).slice(1), [
    `${g}: connect.url: {{env.MISSING}}: environment variable MISSING is not allowed in templates: list it in HOLDLINE_ENV_ALLOW (e.g. HOLDLINE_ENV_ALLOW=MISSING) or name it HOLDLINE_…`,
  ]);
  assert.equal(
    (
      await loadScenario(
        g,
        { MISSING: '1', HOLDLINE_ENV_ALLOW: 'MISSING' },
        { supplied: ['wsBaseUrl', 'nope'] },
      )
    ).connect.url,
    '{{wsBaseUrl}}/ws?{{nope}}{{env.MISSING}}',
  );

  // A near miss of a defined name is suggested.
  const h = await write(
    'vars3.yaml',
    'http:\n  - { name: c, url: "{{baseUrl}}/c", capture: { chatId: id } }\nconnect:\n  url: "{{wsBaseUrl}}/ws?c={{chatid}}"\n',
  );
  assert.deepEqual(await problemsOf(loadScenario(h, {})), [
    `${h}: connect.url: unknown variable {{chatid}}; did you mean {{chatId}}?`,
  ]);
});

test('URL schemes are checked where they are literal', async () => {
  const f = await write(
    'schemes.yaml',
    `
http:
  - { name: a, url: "ftp://h/x" }
  - { name: b, url: "/relative" }
  - { name: c, url: "https://h/{{index}}" }
connect: { transport: sse, url: "ws://h/ws" }
`,
  );
  const lines = await problemsOf(loadScenario(f, {}));
  assert.ok(
    lines.some((l) => /http\[0\]\.url: expected a http:\/\/, https:\/\/ URL, got ftp:\/\//.test(l)),
    lines.join('\n'),
  );
  assert.ok(
    lines.some((l) => /http\[1\]\.url: expected an absolute http:\/\/, https:\/\/ URL/.test(l)),
    lines.join('\n'),
  );
  assert.ok(
    lines.some((l) => /connect\.url: transport sse needs an http:\/\/ or https:\/\/ URL/.test(l)),
    lines.join('\n'),
  );
  assert.equal(lines.length, 3, lines.join('\n'));
});

test('a module scenario: default export validated by the same schema, setup allowed, path returned', async () => {
  const m = await write(
    'mod.mjs',
    `export default { name: 'm', http: [{ name: 'token', request: 'POST {{baseUrl}}/t', capture: { token: 'token' } }],
       connect: { url: '{{wsBaseUrl}}/ws?t={{token}}&x={{fromSetup}}' } };
     export async function setup(ctx) { return { fromSetup: String(ctx.index) }; }\n`,
  );
  const s = await loadScenario(m, {});
  assert.equal(s.module, m);
  assert.equal(s.connect.url, '{{wsBaseUrl}}/ws?t={{token}}&x={{fromSetup}}');
  assert.equal(s.http[0].method, 'POST');

  const named = await write(
    'named.mjs',
    `export const scenario = { connect: { url: 'http://h/events' } };\n`,
  );
  assert.deepEqual(await loadScenario(named, {}), {
    http: [],
    connect: { transport: 'sse', url: 'http://h/events' },
    module: named,
  });

  // Without setup, connect variables must be defined; a bad setup export and fields are problems.
  const bad = await write(
    'bad.mjs',
    `export default { connect: { url: '{{wsBaseUrl}}/ws?x={{fromSetup}}', bogus: 1 } };\nexport const setup = 5;\n`,
  );
  const lines = await problemsOf(loadScenario(bad, {}));
  assert.equal(lines.length, 3, lines.join('\n'));
  assert.ok(
    lines.some(
      (l) =>
        l === `${bad}: setup: expected an async function setup({ index, vars }) returning extra variables`,
    ),
  );
  assert.ok(lines.some((l) => l.startsWith(`${bad}: connect.bogus: unknown field`)));
  assert.ok(lines.some((l) => l.startsWith(`${bad}: connect.url: unknown variable {{fromSetup}}`)));

  const none = await write('none.mjs', 'export const other = 1;\n');
  await assert.rejects(
    loadScenario(none, {}),
    (e: unknown) => e instanceof UserError && /exports no scenario/.test(e.message),
  );
  const broken = await write('broken.mjs', 'export default {\n');
  await assert.rejects(
    loadScenario(broken, {}),
    (e: unknown) => e instanceof UserError && /Cannot load scenario module .*broken\.mjs/.test(e.message),
  );
});

test('a TypeScript module loads where Node can strip types, else the error says to compile it', async () => {
  const ts = await write(
    'mod.ts',
    `const s: { connect: { url: string } } = { connect: { url: 'ws://h/ws' } };\nexport default s;\n`,
  );
  try {
    const s = await loadScenario(ts, {});
    assert.equal(s.connect.url, 'ws://h/ws');
  } catch (err) {
    assert.ok(err instanceof UserError);
    assert.match(err.message, /cannot import TypeScript directly/);
    assert.match(err.hint ?? '', /Compile it to JavaScript/);
  }
});

test('missing files and unsupported types are clear UserErrors', async () => {
  await assert.rejects(
    loadScenario(join(dir, 'nope.yaml'), {}),
    (e: unknown) => e instanceof UserError && /Scenario file not found: .*nope\.yaml/.test(e.message),
  );
  await assert.rejects(
    loadScenario(join(dir, 'nope.mjs'), {}),
    (e: unknown) => e instanceof UserError && /Scenario file not found: .*nope\.mjs/.test(e.message),
  );
  await assert.rejects(
    loadScenario(join(dir, 'x.toml'), {}),
    (e: unknown) => e instanceof UserError && /unsupported file type \.toml/.test(e.message),
  );
});

test('every example scenario file loads', async () => {
  const examples = fileURLToPath(new URL('../../../examples/', import.meta.url));
  // load-*.yaml are chat files for `holdline load --chat`, another format with its own tests.
  const files = (await readdir(examples)).filter((f) => f.endsWith('.yaml') && !f.startsWith('load-'));
  assert.ok(files.length >= 3, files.join(', '));
  for (const f of files) {
    const s = await loadScenario(join(examples, f), { HOLDLINE_API_KEY: 'k' });
    assert.ok(s.connect.url.length > 0, f);
  }
});

test('durations, transports and paths', () => {
  assert.equal(parseDuration('5s'), 5000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('2m'), 120_000);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration(250), 250);
  assert.equal(parseDuration('250'), 250);
  for (const bad of ['', 'soon', '5 s', '5sec', '-1s', 's']) assert.equal(parseDuration(bad), null, bad);
  assert.equal(parseDuration(-1), null);

  assert.equal(inferTransport('{{wsBaseUrl}}/ws'), 'ws');
  assert.equal(inferTransport('wss://h/ws'), 'ws');
  assert.equal(inferTransport('{{baseUrl}}/events'), 'sse');
  assert.equal(inferTransport('{{ baseUrl }}/events'), 'sse');
  assert.equal(inferTransport('HTTPS://h/events'), 'sse');
  assert.equal(inferTransport('{{host}}/x'), 'ws');

  assert.equal(formatPath(['http', 1, 'capture', 'token']), 'http[1].capture.token');
  assert.equal(formatPath(['connect', 'headers', 'X-Key']), 'connect.headers.X-Key');
  assert.equal(formatPath(['vars', 'a b']), 'vars["a b"]');
  assert.equal(formatPath([]), '');
});

test('validateScenario works on plain objects (no file)', () => {
  const ok = validateScenario({ connect: { url: 'ws://h/ws', send: 'hi' } });
  assert.deepEqual(ok, {
    ok: true,
    spec: { http: [], connect: { transport: 'ws', url: 'ws://h/ws', send: ['hi'] } },
  });
  const bad = validateScenario({ connect: { url: 'ws://h/ws', send: [] } });
  assert.deepEqual(bad, {
    ok: false,
    problems: [
      { path: 'connect.send', message: 'expected a message or a list of messages, got an empty list' },
    ],
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
