import { NOFILE } from './ecs-task.js';
import type { TemplateOptions } from './options.js';

// The README.md `holdline init` writes next to the template: how to register and run it.

const IMAGE = [
  '## The image',
  '',
  'Any Node.js 20.18+ image with holdline installed works, for example:',
  '',
  '```Dockerfile',
  'FROM node:20-slim',
  'RUN npm install --global holdline',
  '```',
  '',
  'The command runs through `sh -c` so the test parameters come from the environment.',
];

const PARAMS = (o: TemplateOptions): string[] => [
  '## Test parameters (environment)',
  '',
  '| variable | value here | meaning |',
  '|---|---|---|',
  `| HOLDLINE_URL | \`${o.url}\` | WebSocket or SSE URL under test |`,
  `| HOLDLINE_POINTS | \`${o.points}\` | concurrent sessions to try, in order |`,
  `| HOLDLINE_PRESET | \`${o.preset}\` | threshold, step timeout and pause of the ladder |`,
  '| HOLDLINE_LOG_FORMAT | `emf` | one CloudWatch Embedded Metric Format line per step on stdout |',
];

export function ecsReadme(o: TemplateOptions): string {
  return [
    `# ${o.name} on Amazon ECS (Fargate)`,
    '',
    '`task-definition.json` runs `holdline env`, then `holdline capacity` against `HOLDLINE_URL`.',
    '',
    '## Before registering',
    '',
    'Replace every placeholder:',
    '',
    '- `<YOUR_ACCOUNT_ID>`: your AWS account id (execution role ARN, image).',
    '- `<YOUR_REGION>`: the region, e.g. `eu-west-1` (image, log group).',
    '- `<YOUR_TARGET_HOST>`: the service under test, in `HOLDLINE_URL`.',
    '',
    'The execution role needs `AmazonECSTaskExecutionRolePolicy` and `logs:CreateLogGroup` (the log group is created on first run).',
    '',
    ...IMAGE,
    '',
    ...PARAMS(o),
    '',
    '## Register and run',
    '',
    '```sh',
    'aws ecs register-task-definition --cli-input-json file://task-definition.json',
    `aws ecs run-task --cluster <YOUR_CLUSTER> --launch-type FARGATE --task-definition ${o.name} \\`,
    '  --network-configuration "awsvpcConfiguration={subnets=[<SUBNET_ID>],securityGroups=[<SECURITY_GROUP_ID>],assignPublicIp=ENABLED}"',
    `aws logs tail /ecs/${o.name} --follow`,
    '```',
    '',
    'Change a parameter for one run without a new revision:',
    '',
    '```sh',
    `aws ecs run-task ... --overrides '{"containerOverrides":[{"name":"${o.name}","environment":[{"name":"HOLDLINE_POINTS","value":"1000,2000,5000"}]}]}'`,
    '```',
    '',
    '## Why these settings',
    '',
    `- \`ulimits\` nofile ${NOFILE}: every session is a socket, and a socket is a file descriptor.`,
    '- `systemControls` widen the ephemeral port range (one source address reaches one target address:port at most once per port) and the accept queue.',
    `- ${o.cpu} CPU units / ${o.memoryMiB} MiB: one Node process uses about one vCPU; use a larger size with \`--workers\` for more.`,
    '',
    'After the run, `holdline plan --from RESULT.json --target N` turns the measured safe limit into a task count.',
    '',
  ].join('\n');
}

export function k8sReadme(o: TemplateOptions): string {
  const job = `${o.name}-capacity`;
  return [
    `# ${o.name} as a Kubernetes Job`,
    '',
    '`job.yaml` runs `holdline env`, then `holdline capacity` against `HOLDLINE_URL`, once.',
    '',
    'Replace `<YOUR_REGISTRY>` (the image) and `<YOUR_TARGET_HOST>` (in `HOLDLINE_URL`) first.',
    '',
    ...IMAGE,
    '',
    ...PARAMS(o),
    '',
    '## Run',
    '',
    '```sh',
    'kubectl apply -f job.yaml',
    `kubectl logs -f job/${job}`,
    `kubectl delete job ${job}   # before running it again`,
    '```',
    '',
    '## Open files',
    '',
    'Pods have no ulimit setting: the open-file limit comes from the container runtime on the node',
    '(`LimitNOFILE` of containerd or CRI-O). The first lines of the log (`holdline env`) show the limit',
    'and how many sessions it allows per process.',
    '',
    'The Job sets `net.ipv4.ip_local_port_range`, a safe sysctl, for a full ephemeral port range.',
    '',
  ].join('\n');
}
