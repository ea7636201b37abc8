import http from 'node:http';
import https from 'node:https';
import { errorMessage } from './read.js';

// ECS task metadata (v4, v3 as a fallback): what the task really is, its size and network mode.
// The endpoint is a link-local HTTP server the agent runs for every task. It answers in
// milliseconds, so short deadlines are safe, and anything odd becomes "not available: reason".

export interface EcsContainer {
  name: string | null;
  dockerId: string | null;
  image: string | null;
  /** Container-level CPU units (1024 = one vCPU); null when not set. */
  cpuUnits: number | null;
  memoryMiB: number | null;
  networkModes: string[];
  ipv4Addresses: string[];
  knownStatus: string | null;
  logDriver: string | null;
  logGroup: string | null;
}

export type EcsFacts =
  | {
      available: true;
      metadataVersion: 3 | 4;
      endpoint: string;
      cluster: string | null;
      /** Short cluster name (the last part of the cluster ARN). */
      clusterName: string | null;
      serviceName: string | null;
      taskArn: string | null;
      taskId: string | null;
      region: string | null;
      accountId: string | null;
      family: string | null;
      revision: string | null;
      launchType: string | null;
      availabilityZone: string | null;
      desiredStatus: string | null;
      knownStatus: string | null;
      /** Task-level size, as the task definition sets it (CPU in vCPUs). */
      taskCpuVcpus: number | null;
      taskMemoryMiB: number | null;
      networkMode: string | null;
      container: EcsContainer | null;
      containers: EcsContainer[];
      /** What could not be read although the task response was fine. */
      notes: string[];
    }
  | { available: false; reason: string };

export interface EcsProbe {
  env?: Record<string, string | undefined>;
  /** Deadline for each request (they run in parallel). */
  timeoutMs?: number;
}

const MAX_BODY = 1 << 20;

type Fetched = { ok: true; value: unknown } | { ok: false; reason: string };

/** GET a JSON document with a hard deadline; never rejects. */
export function getJson(url: string, timeoutMs: number): Promise<Fetched> {
  return new Promise((resolve) => {
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    let req: http.ClientRequest | undefined;
    const finish = (r: Fetched): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req?.destroy();
      resolve(r);
    };
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      resolve({ ok: false, reason: `not a URL: ${url}` });
      return;
    }
    const get = u.protocol === 'https:' ? https.get : http.get;
    req = get(u, { agent: false, headers: { accept: 'application/json' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        finish({ ok: false, reason: `GET ${url} answered HTTP ${res.statusCode}` });
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY)
          finish({ ok: false, reason: `GET ${url}: response larger than ${MAX_BODY} bytes` });
        else chunks.push(c);
      });
      res.on('end', () => {
        try {
          finish({ ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        } catch (err) {
          finish({ ok: false, reason: `GET ${url}: malformed JSON (${errorMessage(err)})` });
        }
      });
      res.on('error', (err) => finish({ ok: false, reason: `GET ${url}: ${errorMessage(err)}` }));
    });
    req.on('error', (err) =>
      finish({
        ok: false,
        reason: `GET ${url}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`,
      }),
    );
    timer = setTimeout(
      () => finish({ ok: false, reason: `GET ${url}: no answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
  });
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null =>
  typeof v === 'string' && v.length > 0 ? v : typeof v === 'number' ? String(v) : null;
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null);

/** `arn:aws:ecs:<region>:<account>:task/<cluster>/<id>` (or the older `task/<id>`). */
export function parseArn(arn: string | null): {
  region: string | null;
  accountId: string | null;
  resource: string | null;
} {
  const parts = arn?.split(':') ?? [];
  if (parts.length < 6 || parts[0] !== 'arn') return { region: null, accountId: null, resource: null };
  return {
    region: parts[3] || null,
    accountId: parts[4] || null,
    resource: parts.slice(5).join(':') || null,
  };
}

export function parseContainer(c: unknown): EcsContainer | null {
  if (!isObj(c)) return null;
  const limits = isObj(c.Limits) ? c.Limits : {};
  const networks = Array.isArray(c.Networks) ? c.Networks.filter(isObj) : [];
  const logOptions = isObj(c.LogOptions) ? c.LogOptions : {};
  return {
    name: str(c.Name),
    dockerId: str(c.DockerId),
    image: str(c.Image),
    cpuUnits: num(limits.CPU),
    memoryMiB: num(limits.Memory),
    networkModes: networks.map((n) => str(n.NetworkMode)).filter((m): m is string => m !== null),
    ipv4Addresses: networks.flatMap((n) =>
      Array.isArray(n.IPv4Addresses) ? n.IPv4Addresses.filter((a): a is string => typeof a === 'string') : [],
    ),
    knownStatus: str(c.KnownStatus),
    logDriver: str(c.LogDriver),
    logGroup: str(logOptions['awslogs-group']),
  };
}

/** Builds the facts from the documented task (`${uri}/task`) and container (`${uri}`) responses. */
export function parseEcsMetadata(
  task: unknown,
  container: unknown,
  meta: { version: 3 | 4; endpoint: string; notes?: string[] },
): EcsFacts {
  if (!isObj(task)) return { available: false, reason: `${meta.endpoint}/task did not return a JSON object` };
  const taskArn = str(task.TaskARN);
  if (!taskArn)
    return {
      available: false,
      reason: `${meta.endpoint}/task has no TaskARN: not an ECS task metadata response`,
    };
  const arn = parseArn(taskArn);
  const cluster = str(task.Cluster);
  const clusterName = cluster
    ? cluster.startsWith('arn:')
      ? (parseArn(cluster).resource?.replace(/^cluster\//, '') ?? null)
      : cluster
    : null;
  const idPart = arn.resource?.split('/') ?? [];
  const limits = isObj(task.Limits) ? task.Limits : {};
  const containers = (Array.isArray(task.Containers) ? task.Containers : [])
    .map(parseContainer)
    .filter((c): c is EcsContainer => c !== null);
  const self = parseContainer(container);
  const networkMode =
    self?.networkModes[0] ?? containers.find((c) => c.networkModes.length > 0)?.networkModes[0] ?? null;
  return {
    available: true,
    metadataVersion: meta.version,
    endpoint: meta.endpoint,
    cluster,
    clusterName,
    serviceName: str(task.ServiceName),
    taskArn,
    taskId: idPart.length > 1 ? idPart[idPart.length - 1] : null,
    region: arn.region,
    accountId: arn.accountId,
    family: str(task.Family),
    revision: str(task.Revision),
    launchType: str(task.LaunchType),
    availabilityZone: str(task.AvailabilityZone),
    desiredStatus: str(task.DesiredStatus),
    knownStatus: str(task.KnownStatus),
    taskCpuVcpus: num(limits.CPU),
    taskMemoryMiB: num(limits.Memory),
    networkMode,
    container: self,
    containers,
    notes: meta.notes ?? [],
  };
}

/** Reads the task metadata named by ECS_CONTAINER_METADATA_URI_V4 (or the v3 variable). */
export async function readEcsMetadata(o: EcsProbe = {}): Promise<EcsFacts> {
  const env = o.env ?? process.env;
  const timeoutMs = o.timeoutMs ?? 1500;
  const v4 = env.ECS_CONTAINER_METADATA_URI_V4;
  const v3 = env.ECS_CONTAINER_METADATA_URI;
  const endpoint = (v4 || v3 || '').replace(/\/+$/, '');
  if (!endpoint)
    return { available: false, reason: 'ECS_CONTAINER_METADATA_URI_V4 is not set (not an ECS task)' };
  const version = v4 ? 4 : 3;
  const [task, container] = await Promise.all([
    getJson(`${endpoint}/task`, timeoutMs),
    getJson(endpoint, timeoutMs),
  ]);
  if (!task.ok) return { available: false, reason: task.reason };
  const notes = container.ok ? [] : [`container metadata: ${container.reason}`];
  return parseEcsMetadata(task.value, container.ok ? container.value : null, { version, endpoint, notes });
}
