import { exists, readText } from './read.js';

// Whether we run in a container, and which kind, from the usual tell-tales. Each piece of
// evidence is listed so a surprising answer can be checked by hand.

export type ContainerKind = 'ecs' | 'kubernetes' | 'docker' | 'podman' | 'containerd' | 'lxc' | 'unknown';

export interface ContainerFacts {
  inContainer: boolean;
  kind: ContainerKind | null;
  evidence: string[];
}

export interface ContainerProbe {
  /** Filesystem root (default "/"), for /.dockerenv and /run/.containerenv. */
  root?: string;
  procRoot?: string;
  env?: Record<string, string | undefined>;
}

export function detectContainer(o: ContainerProbe = {}): ContainerFacts {
  const root = (o.root ?? '/').replace(/\/+$/, '');
  const procRoot = o.procRoot ?? '/proc';
  const env = o.env ?? process.env;
  const evidence: string[] = [];
  const kinds: ContainerKind[] = [];
  const note = (kind: ContainerKind, why: string): void => {
    kinds.push(kind);
    evidence.push(why);
  };
  if (env.ECS_CONTAINER_METADATA_URI_V4 || env.ECS_CONTAINER_METADATA_URI) {
    note('ecs', `ECS_CONTAINER_METADATA_URI${env.ECS_CONTAINER_METADATA_URI_V4 ? '_V4' : ''} is set`);
  }
  if (env.AWS_EXECUTION_ENV?.startsWith('AWS_ECS')) note('ecs', `AWS_EXECUTION_ENV=${env.AWS_EXECUTION_ENV}`);
  if (env.KUBERNETES_SERVICE_HOST) note('kubernetes', 'KUBERNETES_SERVICE_HOST is set');
  if (exists(`${root}/.dockerenv`)) note('docker', '/.dockerenv exists');
  if (exists(`${root}/run/.containerenv`)) note('podman', '/run/.containerenv exists');
  if (env.container)
    note(
      env.container === 'podman' ? 'podman' : env.container === 'lxc' ? 'lxc' : 'unknown',
      `container=${env.container} in the environment`,
    );
  const init = readText(`${procRoot}/1/cgroup`);
  if (init.ok) {
    const t = init.text;
    if (/docker/.test(t)) note('docker', '/proc/1/cgroup mentions docker');
    else if (/kubepods/.test(t)) note('kubernetes', '/proc/1/cgroup mentions kubepods');
    else if (/\/ecs\//.test(t)) note('ecs', '/proc/1/cgroup mentions ecs');
    else if (/containerd|cri-containerd/.test(t)) note('containerd', '/proc/1/cgroup mentions containerd');
    else if (/lxc/.test(t)) note('lxc', '/proc/1/cgroup mentions lxc');
  }
  // The orchestrator says more than the runtime: ECS and Kubernetes first.
  const order: ContainerKind[] = ['ecs', 'kubernetes', 'podman', 'docker', 'containerd', 'lxc', 'unknown'];
  const kind = order.find((k) => kinds.includes(k)) ?? null;
  return { inContainer: kind !== null, kind, evidence };
}
