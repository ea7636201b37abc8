import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REDACTED, redactConfig, redactHeaders, redactUrl } from '../../src/report/redact.js';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlLXZhbHVl';

test('redactUrl hides credentials in the query and the userinfo password', () => {
  const cases: [string, string][] = [
    [
      'wss://bob:pw@chat.example.com:8443/ws?token=abc&room=1',
      'wss://bob@chat.example.com:8443/ws?token=[redacted]&room=1',
    ],
    ['ws://:secret@127.0.0.1:8080/ws', 'ws://127.0.0.1:8080/ws'],
    ['ws://user@h/ws', 'ws://user@h/ws'],
    ['ws://127.0.0.1:8080/ws', 'ws://127.0.0.1:8080/ws'],
    [
      'https://h/sse?access_token=a1&auth=b2&key=c3&api_key=d4',
      'https://h/sse?access_token=[redacted]&auth=[redacted]&key=[redacted]&api_key=[redacted]',
    ],
    [
      'https://h/x?secret=s&password=p&signature=q&jwt=j',
      'https://h/x?secret=[redacted]&password=[redacted]&signature=[redacted]&jwt=[redacted]',
    ],
    [
      'https://b.s3.amazonaws.com/o?X-Amz-Credential=c&X-Amz-Signature=s&X-Amz-Expires=60',
      'https://b.s3.amazonaws.com/o?X-Amz-Credential=[redacted]&X-Amz-Signature=[redacted]&X-Amz-Expires=60',
    ],
    [`ws://h/ws?t=${JWT}&room=2`, 'ws://h/ws?t=[redacted]&room=2'],
    [`ws://h/ws/${JWT}/x`, 'ws://h/ws/[redacted]/x'],
    ['ws://h/ws?token={{token}}&room=1', 'ws://h/ws?token={{token}}&room=1'],
    ['ws://h/ws?token=&flag', 'ws://h/ws?token=&flag'],
    ['https://h/cb#access_token=abc&state=1', 'https://h/cb#access_token=[redacted]&state=1'],
    ['https://h/page#section', 'https://h/page#section'],
    ['not a url ?password=x', 'not a url ?password=[redacted]'],
  ];
  for (const [input, want] of cases) assert.equal(redactUrl(input), want, input);
});

test('redactHeaders hides credentials and keeps the rest', () => {
  const out = redactHeaders({
    Authorization: 'Bearer abc',
    cookie: 'sid=1',
    'Set-Cookie': ['a=1', 'b=2'],
    'X-Api-Key': 'k',
    'X-Auth-Token': 't',
    'X-Client-Secret': 's',
    'X-Signing-Key-Id': 'kid',
    'Content-Type': 'application/json',
    'User-Agent': 'holdline',
    Origin: 'https://example.com',
  });
  assert.deepEqual(out, {
    Authorization: REDACTED,
    cookie: REDACTED,
    'Set-Cookie': [REDACTED, REDACTED],
    'X-Api-Key': REDACTED,
    'X-Auth-Token': REDACTED,
    'X-Client-Secret': REDACTED,
    'X-Signing-Key-Id': REDACTED,
    'Content-Type': 'application/json',
    'User-Agent': 'holdline',
    Origin: 'https://example.com',
  });
});

test('redactConfig walks the whole object without changing the input', () => {
  const input = {
    url: 'wss://u:p@h/ws?token=abc',
    header: { Authorization: 'Bearer x', 'X-Key-Id': 'k', Accept: 'text/plain' },
    points: [10, 50],
    threshold: 0.8,
    sessions: 100,
    password: 'hunter2',
    apiKey: 12345,
    refine: true,
    raw: ['Authorization: Bearer y', 'Accept: */*', `plain ${'x'}`],
    note: `Bearer ${JWT}`,
    scenario: {
      vars: { token: 'abc', room: 'lobby', template: '{{token}}' },
      http: [
        {
          url: 'http://h/login?password=p&user=u',
          headers: { 'x-session-token': 'zz', Accept: 'json' },
          body: { user: 'u', credentials: { user: 'u', pass: 'p' }, nested: { clientSecret: 's' } },
        },
      ],
      connect: { url: `ws://h/ws?jwt={{jwt}}`, headers: { Authorization: 'Bearer {{token}}' } },
    },
  };
  const before = JSON.stringify(input);
  const out = redactConfig(input);
  assert.equal(JSON.stringify(input), before, 'input untouched');
  assert.deepEqual(out, {
    url: 'wss://u@h/ws?token=[redacted]',
    header: { Authorization: REDACTED, 'X-Key-Id': REDACTED, Accept: 'text/plain' },
    points: [10, 50],
    threshold: 0.8,
    sessions: 100,
    password: REDACTED,
    apiKey: REDACTED,
    refine: true,
    raw: ['Authorization: [redacted]', 'Accept: */*', 'plain x'],
    note: REDACTED,
    scenario: {
      vars: { token: REDACTED, room: 'lobby', template: '{{token}}' },
      http: [
        {
          url: 'http://h/login?password=[redacted]&user=u',
          headers: { 'x-session-token': REDACTED, Accept: 'json' },
          body: {
            user: 'u',
            credentials: { user: REDACTED, pass: REDACTED },
            nested: { clientSecret: REDACTED },
          },
        },
      ],
      connect: { url: 'ws://h/ws?jwt={{jwt}}', headers: { Authorization: REDACTED } },
    },
  });
});

test('redactConfig survives cycles and leaves non-plain values alone', () => {
  const a: Record<string, unknown> = { name: 'a' };
  a.self = a;
  const d = new Date(0);
  const out = redactConfig({ a, d, n: null, u: undefined }) as Record<string, any>;
  assert.equal(out.a.self, '[circular]');
  assert.equal(out.d, d);
  assert.equal(out.n, null);
  assert.ok('u' in out);
});
