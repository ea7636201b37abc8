import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { validateScenario } from '../../src/scenario/schema.js';

// The scenario's `session:` block: mapping to SessionSpec and the messages its mistakes get.

function validate(yaml: string): ReturnType<typeof validateScenario> {
  return validateScenario(parse(yaml));
}

function problems(yaml: string): string[] {
  const v = validate(yaml);
  assert.equal(v.ok, false, 'expected problems');
  return v.ok ? [] : v.problems.map((p) => `${p.path}: ${p.message}`);
}

const WS = 'connect: { url: "{{wsBaseUrl}}/" }\n';

test('an open loop with a lifetime maps to durations in ms; an object message is sent as JSON', () => {
  const v = validate(`${WS}session:
  duration: 30s
  messages: { send: { type: ping, n: 1 }, every: 10s, start: 500ms, count: 3 }
`);
  assert.ok(v.ok);
  assert.deepEqual(v.spec.session, {
    durationMs: 30_000,
    messages: { send: '{"type":"ping","n":1}', everyMs: 10_000, startMs: 500, count: 3 },
  });
});

test('await: reply is a closed loop; a list of one entry is accepted', () => {
  const v = validate(`${WS}session:
  messages: [{ send: "{{index}}-x", await: reply, count: 5000 }]
`);
  assert.ok(v.ok);
  assert.deepEqual(v.spec.session, { messages: { send: '{{index}}-x', count: 5000, await: true } });
  const none = validate(`${WS}session: { messages: { send: hi, await: none } }\n`);
  assert.ok(none.ok);
  assert.deepEqual(none.spec.session, { messages: { send: 'hi' } });
});

test('every mistake is reported, each with its field', () => {
  assert.deepEqual(problems(`${WS}session: {}\n`), [
    'session: expected duration: (how long each session stays open) or messages: (what it sends)',
  ]);
  assert.deepEqual(
    problems(`${WS}session:
  duration: 0
  messages: { send: "x", count: 3, evry: 1s, await: yes }
`).sort(),
    [
      'session.duration: expected a duration above 0 (leave it out to keep sessions open to the end)',
      'session.messages.await: expected reply (closed loop) or none, got "yes"',
      'session.messages.evry: unknown field; did you mean every? expected one of: send, every, start, count, await',
      'session.messages.every: required to send 3 messages: give every: (open loop) or await: reply (closed loop)',
    ].sort(),
  );
  assert.deepEqual(problems(`${WS}session: { messages: { send: "x", every: 0, count: 0 } }\n`).sort(), [
    'session.messages.count: expected at least 1',
    'session.messages.every: expected an interval above 0, such as 10s',
  ]);
  assert.deepEqual(problems(`${WS}session: { messages: [{ send: a }, { send: b }] }\n`), [
    'session.messages: expected one messages entry, got 2',
  ]);
  assert.deepEqual(problems(`${WS}session: { messages: { send: "{{oops" } }\n`).length, 1);
  assert.deepEqual(problems(`${WS}session: { messages: { every: 1s } }\n`), [
    'session.messages.send: required: a message: text, or an object sent as JSON',
  ]);
});

test('messages need a WebSocket: an SSE stream only receives; a lifetime is fine on SSE', () => {
  assert.deepEqual(problems(`connect: { url: "{{baseUrl}}/events" }\nsession: { messages: { send: x } }\n`), [
    'session.messages: messages need a WebSocket connection; an SSE stream only receives',
  ]);
  const v = validate(`connect: { url: "{{baseUrl}}/events" }\nsession: { duration: 1m }\n`);
  assert.ok(v.ok);
  assert.deepEqual(v.spec.session, { durationMs: 60_000 });
});
