import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { initCommand } from '../../src/cli/commands/init.js';
import { runCommand, type CliRun } from '../helpers/cli.js';

let dir = '';

const init = (args: string[]): Promise<CliRun> => runCommand(initCommand, args, { cwd: dir });

// Parsed JSON/YAML is walked freely in these assertions.
type Obj = Record<string, any>;

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'holdline-init-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('init ecs writes a valid task definition with the required fields and a README', async () => {
  const r = await init([
    'ecs',
    '--out',
    'ecs',
    '--url',
    'wss://chat.example.com/ws',
    '--points',
    '100,500,1000',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /wrote ecs\/task-definition\.json\nwrote ecs\/README\.md\n/);
  const td = JSON.parse(readFileSync(path.join(dir, 'ecs/task-definition.json'), 'utf8')) as Obj;
  assert.equal(td.family, 'holdline');
  assert.deepEqual(td.requiresCompatibilities, ['FARGATE']);
  assert.equal(td.networkMode, 'awsvpc');
  assert.equal(td.cpu, '1024');
  assert.equal(td.memory, '2048');
  assert.match(td.executionRoleArn, /<YOUR_ACCOUNT_ID>/);
  const c = td.containerDefinitions[0] as Obj;
  assert.equal(c.essential, true);
  assert.deepEqual(c.ulimits, [{ name: 'nofile', softLimit: 65536, hardLimit: 65536 }]);
  assert.equal(c.logConfiguration.logDriver, 'awslogs');
  assert.equal(c.logConfiguration.options['awslogs-group'], '/ecs/holdline');
  assert.equal(c.logConfiguration.options['awslogs-region'], '<YOUR_REGION>');
  assert.ok(c.logConfiguration.options['awslogs-stream-prefix']);
  const env = Object.fromEntries(
    (c.environment as { name: string; value: string }[]).map((e) => [e.name, e.value]),
  );
  assert.equal(env.HOLDLINE_URL, 'wss://chat.example.com/ws');
  assert.equal(env.HOLDLINE_POINTS, '100,500,1000');
  assert.match(c.command[0], /holdline capacity "\$HOLDLINE_URL".*--points "\$HOLDLINE_POINTS"/);
  assert.match(c.image, /<YOUR_ACCOUNT_ID>\.dkr\.ecr\.<YOUR_REGION>\.amazonaws\.com/);
  const readme = readFileSync(path.join(dir, 'ecs/README.md'), 'utf8');
  assert.match(readme, /aws ecs register-task-definition --cli-input-json file:\/\/task-definition\.json/);
  assert.match(readme, /aws ecs run-task/);
  assert.match(readme, /<YOUR_ACCOUNT_ID>/);
});

test('init refuses to overwrite without --force, and overwrites with it', async () => {
  await init(['ecs', '--out', 'again']);
  const file = path.join(dir, 'again/task-definition.json');
  const before = statSync(file).mtimeMs;
  const r = await init(['ecs', '--out', 'again', '--cpu', '2048', '--memory', '4096']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /task-definition\.json and .*README\.md already exist/);
  assert.match(r.stderr, /--force/);
  assert.equal(JSON.parse(readFileSync(file, 'utf8')).cpu, '1024');
  assert.equal(statSync(file).mtimeMs, before);
  const forced = await init(['ecs', '--out', 'again', '--cpu', '2048', '--memory', '4096', '--force']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(JSON.parse(readFileSync(file, 'utf8')).cpu, '2048');
});

test('init k8s writes a valid Job manifest and README', async () => {
  const r = await init(['k8s', '--out', 'k8s', '--cpu', '512', '--memory', '1024']);
  assert.equal(r.code, 0, r.stderr);
  const text = readFileSync(path.join(dir, 'k8s/job.yaml'), 'utf8');
  assert.match(text, /^# holdline capacity run as a Kubernetes Job/);
  const job = YAML.parse(text) as Obj;
  assert.equal(job.apiVersion, 'batch/v1');
  assert.equal(job.kind, 'Job');
  assert.equal(job.metadata.name, 'holdline-capacity');
  assert.equal(job.spec.backoffLimit, 0);
  const pod = job.spec.template.spec as Obj;
  assert.equal(pod.restartPolicy, 'Never');
  const c = pod.containers[0] as Obj;
  assert.match(c.image, /<YOUR_REGISTRY>/);
  assert.deepEqual(c.resources.limits, { cpu: '500m', memory: '1024Mi' });
  assert.deepEqual(c.resources.requests, c.resources.limits);
  const names = (c.env as { name: string }[]).map((e) => e.name);
  for (const n of ['HOLDLINE_URL', 'HOLDLINE_POINTS', 'POD_NAME', 'POD_NAMESPACE'])
    assert.ok(names.includes(n), n);
  assert.deepEqual(pod.securityContext.sysctls, [
    { name: 'net.ipv4.ip_local_port_range', value: '1024 65535' },
  ]);
  assert.match(readFileSync(path.join(dir, 'k8s/README.md'), 'utf8'), /kubectl apply -f job\.yaml/);
  assert.equal((await init(['k8s', '--out', 'k8s'])).code, 2);
});

test('init: usage errors name the problem', async () => {
  assert.match((await init(['swarm'])).stderr, /unknown kind "swarm": use ecs or k8s/);
  assert.match(
    (await init(['ecs', '--out', 'x', '--cpu', '1000'])).stderr,
    /--cpu 1000 is not a Fargate size/,
  );
  const mem = await init(['ecs', '--out', 'x', '--cpu', '256', '--memory', '4096']);
  assert.match(mem.stderr, /--memory 4096 does not fit --cpu 256/);
  assert.match(mem.stderr, /512, 1024, 2048/);
  assert.match(
    (await init(['k8s', '--out', 'x', '--name', 'Bad_Name'])).stderr,
    /not a valid Kubernetes name/,
  );
  assert.equal((await init(['ecs', '--out', 'x', '--url', 'ftp://x'])).code, 2);
});

test('init defaults to ./holdline-<kind>', async () => {
  const r = await init(['k8s']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(statSync(path.join(dir, 'holdline-k8s/job.yaml')).isFile());
});
