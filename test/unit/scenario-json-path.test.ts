import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonPathError, compilePath, getPath } from '../../src/scenario/json-path.js';

const doc = {
  token: 'tok',
  data: { chat: { id: 42, members: ['a', 'b'] } },
  items: [{ id: 'first' }, { id: 'second' }],
  'odd key': { 'a.b': 1, "it's": 2 },
  zero: 0,
  empty: '',
  nothing: null,
};

test('names, $-rooted paths, nested properties and indexes', () => {
  assert.equal(getPath(doc, 'token'), 'tok');
  assert.equal(getPath(doc, '$.token'), 'tok');
  assert.equal(getPath(doc, 'data.chat.id'), 42);
  assert.equal(getPath(doc, '$.data.chat.members[1]'), 'b');
  assert.equal(getPath(doc, 'items[0].id'), 'first');
  assert.equal(getPath(doc, 'items[-1].id'), 'second');
  assert.equal(getPath(doc, 'items.1.id'), 'second');
  assert.equal(getPath(doc, '[0]'), undefined);
  assert.equal(getPath(['x', 'y'], '[1]'), 'y');
  assert.equal(getPath(['x', 'y'], '$[0]'), 'x');
});

test('bracket keys with quotes, dots and escapes', () => {
  assert.deepEqual(getPath(doc, "$['odd key']"), { 'a.b': 1, "it's": 2 });
  assert.equal(getPath(doc, `$["odd key"]['a.b']`), 1);
  assert.equal(getPath(doc, "$['odd key']['it\\'s']"), 2);
});

test('$ alone is the whole document; falsy values are found, not missing', () => {
  assert.equal(getPath('bare-token', '$'), 'bare-token');
  assert.equal(getPath(doc, 'zero'), 0);
  assert.equal(getPath(doc, 'empty'), '');
  assert.equal(getPath(doc, 'nothing'), null);
});

test('missing parts give undefined, never a throw', () => {
  assert.equal(getPath(doc, 'nope'), undefined);
  assert.equal(getPath(doc, 'data.nope.id'), undefined);
  assert.equal(getPath(doc, 'token.length'), undefined); // no walking into strings
  assert.equal(getPath(doc, 'items[5].id'), undefined);
  assert.equal(getPath(doc, 'items.x'), undefined);
  assert.equal(getPath(doc, 'nothing.x'), undefined);
  assert.equal(getPath(null, 'token'), undefined);
  assert.equal(getPath('text', 'token'), undefined);
  // Own properties only: nothing from the prototype.
  assert.equal(getPath(doc, 'constructor'), undefined);
  assert.equal(getPath(doc, 'token.__proto__'), undefined);
  assert.equal(getPath({}, 'toString'), undefined);
});

test('compilePath parses once and exposes its segments', () => {
  const p = compilePath("$.data['odd key'][2].x");
  assert.deepEqual(p.segments, ['data', 'odd key', 2, 'x']);
  assert.equal(p.source, "$.data['odd key'][2].x");
  assert.equal(p.get({ data: { 'odd key': [0, 0, { x: 'y' }] } }), 'y');
});

test('syntax errors name the path', () => {
  for (const bad of ['', 'a..b', 'a[', "a['x", 'a[x]', 'a.', '$token', 'a b']) {
    assert.throws(
      () => compilePath(bad),
      (e: unknown) => e instanceof JsonPathError && e.message.includes(JSON.stringify(bad)),
      bad,
    );
  }
});
