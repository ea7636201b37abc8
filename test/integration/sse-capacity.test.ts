import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { runCli } from '../helpers/cli.js';
import { onlyResult } from '../helpers/results.js';

// Any test command holds SSE sessions when the scenario's connection is SSE: the transport is
// chosen from `connect.transport` (an http:// URL in the file means sse).

test('capacity with an SSE scenario holds event streams, and counts refusals as http_<status>', async () => {
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    // Sessions 30 and above are refused, whatever the step (closes of the last step may still be
    // on their way).
    const i = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('i'));
    if (i >= 30) {
      res.writeHead(503).end('full');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(': hello\n\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'holdline-sse-cap-'));
  const file = path.join(dir, 'sse.yaml');
  writeFileSync(file, 'connect:\n  url: "{{baseUrl}}/events?i={{index}}"\n');
  try {
    const r = await runCli([
      'capacity',
      base.replace('http:', 'ws:'),
      '--scenario',
      file,
      '--points',
      '20,40',
      '--hold',
      '200ms',
      '--pause',
      '0',
      '--no-progress',
      '--out',
      dir,
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const res = onlyResult(dir);
    assert.deepEqual(
      res.steps.map((s) => [s.sessions, s.successful]),
      [
        [20, 20],
        [40, 30],
      ],
    );
    assert.deepEqual(res.steps[1].failures, { http_503: 10 });
    assert.equal(res.steps[0].phases.upgrade.count, 20, 'response headers timed for every stream');
    assert.equal(requests, 60);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
