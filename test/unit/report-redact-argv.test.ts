import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactArgv } from '../../src/report/redact-argv.js';

test('the command line in a report: tokens in URLs, credential headers and secret flags redacted', () => {
  assert.equal(
    redactArgv([
      'capacity',
      'wss://h.example/ws?token=abc123&room=1',
      '-H',
      'Authorization: Bearer xyz',
      '-H',
      'X-Trace: 7',
      '--api-key=k-42',
      '--points',
      '10,50',
    ]),
    "holdline capacity 'wss://h.example/ws?token=[redacted]&room=1' -H 'Authorization: [redacted]' " +
      "-H 'X-Trace: 7' --api-key=[redacted] --points 10,50",
  );
});
