import { test } from 'node:test';
import assert from 'node:assert/strict';
import { directScenario, referenceScenario } from '../../src/scenario/builtin.js';
import { validateScenario } from '../../src/scenario/schema.js';
import { compile } from '../../src/scenario/template.js';

test('directScenario connects straight to the URL: ws for ws(s)://, sse for http(s)://', () => {
  assert.deepEqual(directScenario('ws://127.0.0.1:8080/ws'), {
    name: 'direct',
    http: [],
    connect: { transport: 'ws', url: 'ws://127.0.0.1:8080/ws' },
  });
  assert.equal(directScenario('wss://h/ws').connect.transport, 'ws');
  assert.equal(directScenario('https://h/events').connect.transport, 'sse');
  // The URL is a template: built-ins give each session its own value.
  assert.equal(
    compile(directScenario('ws://h/ws?i={{index}}').connect.url).render({ index: '4' }),
    'ws://h/ws?i=4',
  );
});

test('referenceScenario: token → chat with the Bearer token → /ws with both', () => {
  const s = referenceScenario('http://127.0.0.1:9000/', 'ws://127.0.0.1:9000');
  assert.deepEqual(s, {
    name: 'reference',
    http: [
      {
        name: 'token',
        method: 'POST',
        url: 'http://127.0.0.1:9000/auth/token',
        body: { userId: 'user-{{index}}' },
        capture: { token: 'token' },
      },
      {
        name: 'chat',
        method: 'POST',
        url: 'http://127.0.0.1:9000/chats',
        headers: { Authorization: 'Bearer {{token}}' },
        body: { name: 'chat-{{index}}' },
        capture: { chatId: 'chatId' },
      },
    ],
    connect: {
      transport: 'ws',
      url: 'ws://127.0.0.1:9000/ws?token={{token | urlencode}}&chat={{chatId | urlencode}}',
    },
  });
  const url = compile(s.connect.url).render({ token: 'a+b=', chatId: 'chat-1' });
  assert.equal(url, 'ws://127.0.0.1:9000/ws?token=a%2Bb%3D&chat=chat-1');
});

test('a built-in scenario written as a file validates to itself', () => {
  const s = referenceScenario('http://h', 'ws://h');
  const asFile = {
    name: s.name,
    http: s.http.map((st) => ({
      name: st.name,
      method: st.method,
      url: st.url,
      headers: st.headers,
      json: st.body,
      capture: st.capture,
    })),
    connect: s.connect,
  };
  const v = validateScenario(JSON.parse(JSON.stringify(asFile)));
  assert.ok(v.ok, JSON.stringify(v));
  assert.deepEqual(v.spec, s);
});
