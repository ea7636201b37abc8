import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { readEcsMetadata } from '../../src/host/ecs.js';
import { collectHostFacts, type HostFacts } from '../../src/host/facts.js';
import { renderEnv } from '../../src/host/render.js';
import { envCommand } from '../../src/cli/commands/env.js';
import { runCommand, type CliRun } from '../helpers/cli.js';

const FIX = new URL('../../../test/fixtures/ecs/', import.meta.url);
const TASK = readFileSync(new URL('task-v4.json', FIX), 'utf8');
const CONTAINER = readFileSync(new URL('container-v4.json', FIX), 'utf8');

// The agent's endpoint, played by a local server: one path prefix per behaviour.
let server: http.Server;
let base = '';
const hits: string[] = [];
const held: http.ServerResponse[] = [];

// A peer that accepts the TCP connection and never says anything.
let silent: net.Server;
let silentUrl = '';
const silentSockets = new Set<net.Socket>();

before(async () => {
  server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    const url = req.url ?? '';
    const json = (body: string, status = 200): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    };
    if (url === '/v4/ok') return json(CONTAINER);
    if (url === '/v4/ok/task') return json(TASK);
    if (url === '/v3/ok') return json(CONTAINER);
    if (url === '/v3/ok/task') return json(TASK);
    if (url === '/v4/bad/task' || url === '/v4/bad') return json('{"Cluster": "x", ');
    if (url === '/v4/other/task' || url === '/v4/other') return json('{"hello": "world"}');
    if (url === '/v4/array/task' || url === '/v4/array') return json('[1,2,3]');
    if (url === '/v4/nocontainer/task') return json(TASK);
    if (url === '/v4/nocontainer') return json('{}', 500);
    if (url.startsWith('/v4/slow')) {
      held.push(res); // headers never come
      return;
    }
    json('{"error":"not found"}', 404);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  silent = net.createServer((s) => {
    silentSockets.add(s);
    s.on('close', () => silentSockets.delete(s));
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/v4/x`;
});

after(async () => {
  for (const r of held) r.destroy();
  for (const s of silentSockets) s.destroy();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  await new Promise<void>((r) => silent.close(() => r()));
});

test('v4 task and container responses give every field', async () => {
  const e = await readEcsMetadata({
    env: { ECS_CONTAINER_METADATA_URI_V4: `${base}/v4/ok` },
    timeoutMs: 2000,
  });
  assert.ok(e.available, JSON.stringify(e));
  assert.equal(e.metadataVersion, 4);
  assert.equal(e.endpoint, `${base}/v4/ok`);
  assert.equal(e.cluster, 'arn:aws:ecs:us-west-2:111122223333:cluster/loadtest');
  assert.equal(e.clusterName, 'loadtest');
  assert.equal(e.serviceName, 'holdline-gen');
  assert.equal(
    e.taskArn,
    'arn:aws:ecs:us-west-2:111122223333:task/loadtest/cd189a933e5849daa93386466019ab50',
  );
  assert.equal(e.taskId, 'cd189a933e5849daa93386466019ab50');
  assert.equal(e.region, 'us-west-2');
  assert.equal(e.accountId, '111122223333');
  assert.equal(e.family, 'holdline');
  assert.equal(e.revision, '7');
  assert.equal(e.launchType, 'FARGATE');
  assert.equal(e.availabilityZone, 'us-west-2b');
  assert.equal(e.desiredStatus, 'RUNNING');
  assert.equal(e.knownStatus, 'RUNNING');
  assert.equal(e.taskCpuVcpus, 0.25);
  assert.equal(e.taskMemoryMiB, 512);
  assert.equal(e.networkMode, 'awsvpc');
  assert.deepEqual(e.container, {
    name: 'holdline',
    dockerId: 'cd189a933e5849daa93386466019ab50-2495160603',
    image: '111122223333.dkr.ecr.us-west-2.amazonaws.com/holdline:latest',
    cpuUnits: 256,
    memoryMiB: 512,
    networkModes: ['awsvpc'],
    ipv4Addresses: ['10.0.2.106'],
    knownStatus: 'RUNNING',
    logDriver: 'awslogs',
    logGroup: '/ecs/holdline',
  });
  assert.equal(e.containers.length, 1);
  assert.equal(e.containers[0].name, 'holdline');
  assert.deepEqual(e.notes, []);
  assert.ok(hits.includes('/v4/ok') && hits.includes('/v4/ok/task'));
});

test('v3 variable is the fallback when v4 is not set', async () => {
  const e = await readEcsMetadata({ env: { ECS_CONTAINER_METADATA_URI: `${base}/v3/ok/` }, timeoutMs: 2000 });
  assert.ok(e.available);
  assert.equal(e.metadataVersion, 3);
  assert.equal(e.family, 'holdline');
});

async function unavailable(
  env: Record<string, string>,
  timeoutMs = 2000,
): Promise<{ reason: string; ms: number }> {
  const t0 = performance.now();
  const e = await readEcsMetadata({ env, timeoutMs });
  const ms = performance.now() - t0;
  assert.equal(e.available, false, JSON.stringify(e));
  return { reason: e.available ? '' : e.reason, ms };
}

test('missing variable: not available, no request', async () => {
  const n = hits.length;
  const { reason } = await unavailable({});
  assert.match(reason, /ECS_CONTAINER_METADATA_URI_V4 is not set/);
  assert.equal(hits.length, n);
});

test('404, malformed JSON, a non-ECS document, an array: not available with the reason', async () => {
  assert.match(
    (await unavailable({ ECS_CONTAINER_METADATA_URI_V4: `${base}/v4/missing` })).reason,
    /answered HTTP 404/,
  );
  assert.match(
    (await unavailable({ ECS_CONTAINER_METADATA_URI_V4: `${base}/v4/bad` })).reason,
    /malformed JSON/,
  );
  assert.match(
    (await unavailable({ ECS_CONTAINER_METADATA_URI_V4: `${base}/v4/other` })).reason,
    /has no TaskARN/,
  );
  assert.match(
    (await unavailable({ ECS_CONTAINER_METADATA_URI_V4: `${base}/v4/array` })).reason,
    /did not return a JSON object/,
  );
  assert.match((await unavailable({ ECS_CONTAINER_METADATA_URI_V4: 'not a url' })).reason, /not a URL/);
});

test('a server that never answers, or never sends headers: not available within the deadline', async () => {
  const a = await unavailable({ ECS_CONTAINER_METADATA_URI_V4: silentUrl }, 300);
  assert.match(a.reason, /no answer within 300 ms/);
  assert.ok(a.ms < 1500, `took ${a.ms} ms`);
  const b = await unavailable({ ECS_CONTAINER_METADATA_URI_V4: `${base}/v4/slow` }, 300);
  assert.match(b.reason, /no answer within 300 ms/);
  assert.ok(b.ms < 1500, `took ${b.ms} ms`);
});

test('nothing listening: not available quickly', async () => {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  const { reason, ms } = await unavailable({
    ECS_CONTAINER_METADATA_URI_V4: `http://127.0.0.1:${port}/v4/x`,
  });
  assert.match(reason, /ECONNREFUSED/);
  assert.ok(ms < 1500);
});

test('task fine, container response failing: available with a note', async () => {
  const e = await readEcsMetadata({
    env: { ECS_CONTAINER_METADATA_URI_V4: `${base}/v4/nocontainer` },
    timeoutMs: 2000,
  });
  assert.ok(e.available);
  assert.equal(e.container, null);
  assert.equal(e.networkMode, 'awsvpc'); // from the task's container list
  assert.match(e.notes[0], /container metadata: .*HTTP 500/);
});

test('host facts on an ECS task: size from the metadata, rendered in the ECS section', async () => {
  const facts = await collectHostFacts({
    env: { ECS_CONTAINER_METADATA_URI_V4: `${base}/v4/ok` },
    ecsTimeoutMs: 2000,
    interfaces: false,
  });
  assert.ok(facts.ecs.available);
  assert.equal(facts.container.kind, 'ecs');
  assert.equal(facts.resources.vcpus, 0.25);
  assert.equal(facts.resources.vcpusFrom, 'ecs');
  assert.equal(facts.resources.memoryBytes, 512 * 1024 * 1024);
  const rule = facts.advice.find((a) => a.id === 'expected-connections');
  assert.match(rule?.title ?? '', /0.25 vCPU \/ 512 MiB: 200–500 connections per task, until measured/);
  const text = renderEnv(facts);
  assert.match(text, /ECS cluster\s+loadtest, service holdline-gen/);
  assert.match(text, /task\s+cd189a933e5849daa93386466019ab50 \(holdline:7\), metadata v4/);
  assert.match(text, /launch type\s+FARGATE in us-west-2b, network mode awsvpc/);
  assert.match(text, /task size\s+0.25 vCPU \/ 512 MiB/);
  assert.match(
    text,
    /this container\s+holdline: 256 CPU units \/ 512 MiB, 10.0.2.106, logs awslogs \/ecs\/holdline/,
  );
});

// ---------------------------------------------------------------- holdline env (in-process)

const env = (args: string[], vars: Record<string, string | undefined>): Promise<CliRun> =>
  runCommand(envCommand, args, { env: vars });

test('holdline env --json prints the facts with every section', async () => {
  const r = await env(['--json', '--no-raise'], { ECS_CONTAINER_METADATA_URI_V4: `${base}/v4/ok` });
  assert.equal(r.code, 0, r.stderr);
  const facts = JSON.parse(r.stdout) as HostFacts;
  for (const k of [
    'system',
    'resources',
    'container',
    'cgroup',
    'ecs',
    'kubernetes',
    'limits',
    'network',
    'advice',
  ] as const) {
    assert.ok(k in facts, k);
  }
  assert.equal(facts.v, 1);
  assert.ok(facts.ecs.available);
  assert.equal(facts.ecs.clusterName, 'loadtest');
  assert.equal(facts.fdRaise, null);
  assert.equal(facts.kubernetes.available, false);
});

test('holdline env prints every section, and a preflight when asked', async () => {
  const r = await env(['--no-raise', '--sessions', '1000000', '--target', 'ws://127.0.0.1:9/ws'], {});
  assert.equal(r.code, 0, r.stderr);
  for (const s of [
    'Host',
    'Container / ECS / Kubernetes',
    'CPU and memory',
    'Limits',
    'Network',
    'Recommendations',
  ]) {
    assert.match(r.stdout, new RegExp(`^${s}$`, 'm'));
  }
  assert.match(r.stdout, /^Preflight for 1000000 sessions to 127.0.0.1:9$/m);
  assert.match(r.stdout, /! 1,000,000 sessions planned, but the open-file limit/);
  const json = JSON.parse(
    (await env(['--json', '--no-raise', '--sessions', '10', '--target', 'ws://127.0.0.1:9/'], {})).stdout,
  ) as { preflight: string[] };
  assert.deepEqual(json.preflight, []);
  const bad = await env(['--target', 'ws://127.0.0.1:9/'], {});
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--target needs --sessions/);
});
