import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addInto,
  createHist,
  decode,
  encode,
  record,
  reset,
  summarize,
} from '../../src/metrics/histogram.js';

function filled(from: number, to: number) {
  const h = createHist();
  for (let us = from; us <= to; us++) record(h, us);
  return h;
}

test('summarize: exact percentiles in milliseconds for 1..1000 µs', () => {
  const s = summarize(filled(1, 1000));
  assert.deepEqual(s, {
    count: 1000,
    min: 0.001,
    mean: 0.501, // 500.5 µs, rounded to the microsecond
    p50: 0.5,
    p90: 0.9,
    p95: 0.95,
    p99: 0.99,
    p999: 0.999,
    max: 1,
  });
});

test('summarize: an empty histogram is all zeros', () => {
  assert.deepEqual(summarize(createHist()), {
    count: 0,
    min: 0,
    mean: 0,
    p50: 0,
    p90: 0,
    p95: 0,
    p99: 0,
    p999: 0,
    max: 0,
  });
});

test('record clamps below 1 µs and rounds to the microsecond', () => {
  const h = createHist();
  record(h, 0);
  record(h, -3); // clock skew
  record(h, 0.4);
  record(h, 2.6);
  const s = summarize(h);
  assert.equal(s.count, 4);
  assert.equal(s.min, 0.001);
  assert.equal(s.max, 0.003);
  assert.equal(s.p50, 0.001);
});

test('encode / decode round trip keeps counts and percentiles', () => {
  const h = filled(1, 1000);
  record(h, 1_500_000); // 1.5 s: beyond exact resolution, within 0.1 %
  const back = decode(encode(h));
  assert.equal(back.totalCount, 1001);
  assert.deepEqual(summarize(back), summarize(h));
  const max = summarize(back).max;
  assert.ok(Math.abs(max - 1500) / 1500 < 0.001, `max ${max}`);
});

test('an empty histogram encodes and decodes', () => {
  const s = encode(createHist());
  assert.equal(typeof s, 'string');
  assert.ok(s.length > 0);
  assert.equal(decode(s).totalCount, 0);
});

test('addInto: two halves add up to the whole, also into a decoded histogram', () => {
  const whole = filled(1, 1000);
  const dst = decode(encode(filled(1, 500)));
  addInto(dst, decode(encode(filled(501, 1000))));
  assert.deepEqual(summarize(dst), summarize(whole));
});

test('a decoded histogram grows for values beyond an hour', () => {
  const dst = decode(encode(createHist()));
  const big = createHist();
  record(big, 7_200_000_000); // two hours
  addInto(dst, big);
  assert.equal(dst.totalCount, 1);
  assert.ok(Math.abs(summarize(dst).max - 7_200_000) / 7_200_000 < 0.001);
});

test('reset empties a histogram', () => {
  const h = filled(1, 10);
  reset(h);
  assert.equal(summarize(h).count, 0);
  record(h, 7);
  assert.equal(summarize(h).p50, 0.007);
});
