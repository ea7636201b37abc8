import { access, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import { UserError } from '../../errors.js';
import { buildEcsTaskDefinition, fargateMemoryChoices } from '../../host/templates/ecs-task.js';
import { renderK8sJob } from '../../host/templates/k8s-job.js';
import { defaultTemplateOptions, type TemplateOptions } from '../../host/templates/options.js';
import { ecsReadme, k8sReadme } from '../../host/templates/readme.js';
import { parseCount, parseCountList, parseUrl } from '../parse.js';
import type { CliIO } from '../io.js';

interface InitOptions {
  out?: string;
  force: boolean;
  url?: URL;
  points?: number[];
  preset: 'aws' | 'ecs';
  cpu: number;
  memory: number;
  image?: string;
  name: string;
  region?: string;
}

const KINDS = ['ecs', 'k8s'] as const;
type Kind = (typeof KINDS)[number];

export function initCommand(io: CliIO): Command {
  return new Command('init')
    .description('write a ready ECS task definition or Kubernetes Job for a load generator, with a README')
    .argument('<kind>', 'ecs or k8s')
    .option('--out <dir>', 'directory to write into (default ./holdline-<kind>)')
    .option('--force', 'overwrite existing files', false)
    .option('--url <url>', 'the WebSocket or SSE URL under test (default: a placeholder)', (raw: string) =>
      parseUrl(raw, ['ws:', 'wss:', 'http:', 'https:']),
    )
    .option('--points <list>', 'session counts of the capacity ladder', parseCountList)
    .addOption(new Option('--preset <name>', 'capacity preset').choices(['aws', 'ecs']).default('aws'))
    .option('--cpu <units>', 'CPU units for the task (1024 = 1 vCPU)', parseCount, 1024)
    .option('--memory <mib>', 'memory in MiB for the task', parseCount, 2048)
    .option('--image <image>', 'container image with holdline installed (default: a placeholder)')
    .option('--name <name>', 'task family / Job name', 'holdline')
    .option('--region <region>', 'AWS region for the log group (default: a placeholder)')
    .action(async (kindArg: string, o: InitOptions) => {
      if (!(KINDS as readonly string[]).includes(kindArg))
        throw new UserError(`unknown kind "${kindArg}": use ecs or k8s`);
      const kind = kindArg as Kind;
      const t = templateOptions(kind, o);
      const files: [string, string][] =
        kind === 'ecs'
          ? [
              ['task-definition.json', `${JSON.stringify(buildEcsTaskDefinition(t), null, 2)}\n`],
              ['README.md', ecsReadme(t)],
            ]
          : [
              ['job.yaml', renderK8sJob(t)],
              ['README.md', k8sReadme(t)],
            ];
      const dir = path.resolve(io.cwd, o.out ?? `holdline-${kind}`);
      await writeAll(dir, files, o.force);
      const shown = path.relative(io.cwd, dir) || '.';
      for (const [name] of files) io.stdout.write(`wrote ${path.join(shown, name)}\n`);
      io.stdout.write(`next: replace the <PLACEHOLDERS>, then follow ${path.join(shown, 'README.md')}\n`);
    });
}

function templateOptions(kind: Kind, o: InitOptions): TemplateOptions {
  const t = defaultTemplateOptions(kind);
  const nameOk = kind === 'k8s' ? /^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$/ : /^[A-Za-z0-9_-]{1,200}$/;
  if (!nameOk.test(o.name)) {
    throw new UserError(
      `--name "${o.name}" is not a valid ${kind === 'k8s' ? 'Kubernetes name (lower-case letters, digits and -)' : 'task family (letters, digits, - and _)'}`,
    );
  }
  if (kind === 'ecs') {
    const choices = fargateMemoryChoices(o.cpu);
    if (!choices)
      throw new UserError(
        `--cpu ${o.cpu} is not a Fargate size: use 256, 512, 1024, 2048, 4096, 8192 or 16384`,
      );
    if (!choices.includes(o.memory)) {
      throw new UserError(
        `--memory ${o.memory} does not fit --cpu ${o.cpu} on Fargate`,
        `valid sizes: ${choices.join(', ')} MiB`,
      );
    }
  }
  return {
    ...t,
    name: o.name,
    cpu: o.cpu,
    memoryMiB: o.memory,
    preset: o.preset,
    ...(o.url ? { url: o.url.href } : {}),
    ...(o.points ? { points: o.points.join(',') } : {}),
    ...(o.image ? { image: o.image } : {}),
    ...(o.region ? { region: o.region } : {}),
  };
}

async function fileExists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

/** Writes every file, or none when one exists already and --force is not given. */
async function writeAll(dir: string, files: [string, string][], force: boolean): Promise<void> {
  if (!force) {
    const existing: string[] = [];
    for (const [name] of files)
      if (await fileExists(path.join(dir, name))) existing.push(path.join(dir, name));
    if (existing.length > 0) {
      throw new UserError(
        `${existing.join(' and ')} already exist${existing.length === 1 ? 's' : ''}`,
        'Pass --force to overwrite, or --out DIR to write elsewhere.',
      );
    }
  }
  try {
    await mkdir(dir, { recursive: true });
    for (const [name, text] of files) await writeFile(path.join(dir, name), text);
  } catch (err) {
    throw new UserError(`cannot write into ${dir}: ${(err as Error).message}`);
  }
}
