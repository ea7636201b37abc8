import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ticker } from '../../src/engine/ticker.js';

interface E {
  due: number;
  id: number;
  fired: number;
  at: number[];
}

test('every entry fires once per schedule, never early, including re-adds and far entries', async () => {
  const t0 = performance.now();
  const entries: E[] = [];
  let fired = 0;
  let early = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const total = 1000 * 3 + 1;
  const ticker = new Ticker<E>(
    (e, now) => {
      if (now < e.due) early++;
      e.fired++;
      e.at.push(now);
      fired++;
      if (e.id >= 0 && e.fired < 3) {
        e.due += 40;
        ticker.add(e);
      }
      if (fired === total) resolveDone();
    },
    5,
    500,
  );
  for (let i = 0; i < 1000; i++) {
    const e: E = { due: t0 + (i % 100) * 2, id: i, fired: 0, at: [] };
    entries.push(e);
    ticker.add(e);
  }
  // Beyond the horizon: held in overflow, then fired on time.
  const far: E = { due: t0 + 700, id: -1, fired: 0, at: [] };
  ticker.add(far);
  await done;
  assert.equal(early, 0);
  assert.ok(entries.every((e) => e.fired === 3));
  assert.equal(far.fired, 1);
  assert.ok(far.at[0] >= t0 + 700);
  assert.equal(ticker.pending, 0);
  ticker.clear();
});

test('one timer per group of due times: none for a bucket start, none re-armed mid-firing', async () => {
  // Counts the ticker's own timers (its callback is named onTimer).
  const realSetTimeout = globalThis.setTimeout;
  let timers = 0;
  globalThis.setTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...rest: unknown[]) => {
    if (fn.name === 'onTimer') timers++;
    return realSetTimeout(fn, ms, ...rest);
  }) as typeof setTimeout;
  try {
    const t0 = performance.now();
    let fired = 0;
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    const ticker = new Ticker<E>(
      (e) => {
        fired++;
        // Re-added from fire(): the firing arms once, at its end, for the earliest entry.
        if (e.id < 50) {
          e.id += 1000;
          e.due = t0 + 48.3;
          ticker.add(e);
        }
        if (fired === 150) resolveDone();
      },
      5,
      500,
    );
    // Two groups of due times (+20.3 ms; +48.3 ms, joined by the first group re-added): two
    // timers. Arming for the start of the second group's bucket, or once per re-add, makes more.
    for (let i = 0; i < 50; i++) ticker.add({ due: t0 + 20.3, id: i, fired: 0, at: [] });
    for (let i = 50; i < 100; i++) ticker.add({ due: t0 + 48.3, id: i, fired: 0, at: [] });
    await done;
    assert.ok(timers >= 1 && timers <= 2, `${timers} timers`); // one when the first is late past +48.3
    assert.equal(ticker.pending, 0);
    ticker.clear();
  } finally {
    globalThis.setTimeout = realSetTimeout;
  }
});

/** Adds `n` entries due at `due(i)` to a ticker with this early window; resolves once all fired. */
async function fireAll(
  n: number,
  due: (i: number) => number,
  earlyMs: number,
): Promise<{ firedAt: number[]; dues: number[] }> {
  const firedAt: number[] = [];
  const dues: number[] = [];
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const ticker = new Ticker<E>(
    (e, now) => {
      firedAt.push(now);
      dues.push(e.due);
      if (firedAt.length === n) resolveDone();
    },
    5,
    500,
    earlyMs,
  );
  for (let i = 0; i < n; i++) ticker.add({ due: due(i), id: i, fired: 0, at: [] });
  await done;
  ticker.clear();
  return { firedAt, dues };
}

test('earlyMs: entries due within it join a firing, never sooner than that before their time', async () => {
  // 200 entries due 0.05 ms apart, from +20 ms: about 10 ms of due times, each at most 1 ms early.
  const t0 = performance.now();
  const { firedAt, dues } = await fireAll(200, (i) => t0 + 20 + i * 0.05, 1);
  for (let i = 0; i < 200; i++)
    assert.ok(firedAt[i] >= dues[i] - 1, `entry ${i} fired ${dues[i] - firedAt[i]} ms early`);
  // Each firing takes everything due within 1 ms of it: at most one firing per ms of due times,
  // against one per entry when firing exactly on time.
  assert.ok(new Set(firedAt).size <= 11, `${new Set(firedAt).size} firings`);
});

test('a wider earlyMs window: fewer, fuller firings, no entry more than the window early', async () => {
  // 100 entries due 1 ms apart from +20 ms: one firing each when firing on time, at most one
  // per 5 ms of due times (plus one for a late timer) with the window.
  const t0 = performance.now();
  const { firedAt, dues } = await fireAll(100, (i) => t0 + 20 + i, 5);
  for (let i = 0; i < 100; i++)
    assert.ok(firedAt[i] >= dues[i] - 5, `entry ${i} fired ${dues[i] - firedAt[i]} ms early`);
  const firings = new Set(firedAt).size;
  assert.ok(firings <= 21, `${firings} firings for 100 ms of due times`);
});
