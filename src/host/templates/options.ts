// What `holdline init` fills into its templates. Placeholders are spelled <LIKE_THIS> so they stand
// out and fail loudly if left in (ECS and Kubernetes reject them as ARNs and image names).

export interface TemplateOptions {
  /** Task family / Job name. */
  name: string;
  image: string;
  /** The WebSocket or SSE URL under test. */
  url: string;
  /** Session counts of the capacity ladder, e.g. "10,50,100". */
  points: string;
  preset: 'aws' | 'ecs';
  /** CPU units (1024 = 1 vCPU) and memory in MiB: one Fargate size. */
  cpu: number;
  memoryMiB: number;
  region: string;
}

export const PLACEHOLDERS = {
  account: '<YOUR_ACCOUNT_ID>',
  region: '<YOUR_REGION>',
  target: '<YOUR_TARGET_HOST>',
  registry: '<YOUR_REGISTRY>',
} as const;

export function defaultTemplateOptions(kind: 'ecs' | 'k8s'): TemplateOptions {
  return {
    name: 'holdline',
    image:
      kind === 'ecs'
        ? `${PLACEHOLDERS.account}.dkr.ecr.${PLACEHOLDERS.region}.amazonaws.com/holdline:latest`
        : `${PLACEHOLDERS.registry}/holdline:latest`,
    url: `wss://${PLACEHOLDERS.target}/ws`,
    points: '10,50,100,200,500,1000,2000,5000',
    preset: 'aws',
    cpu: 1024,
    memoryMiB: 2048,
    region: PLACEHOLDERS.region,
  };
}

/** The test parameters, passed as environment so a run can change them without a new revision. */
export function testEnvironment(o: TemplateOptions): { name: string; value: string }[] {
  return [
    { name: 'HOLDLINE_URL', value: o.url },
    { name: 'HOLDLINE_POINTS', value: o.points },
    { name: 'HOLDLINE_PRESET', value: o.preset },
    { name: 'HOLDLINE_LOG_FORMAT', value: 'emf' },
  ];
}

/**
 * The container's command: print the host checks, then run the ladder from the environment.
 * `holdline env` first so the logs show the limits the number was measured under.
 */
export const RUN_SCRIPT =
  'holdline env; exec holdline capacity "$HOLDLINE_URL" --preset "$HOLDLINE_PRESET" --points "$HOLDLINE_POINTS" ' +
  '--log-format "$HOLDLINE_LOG_FORMAT" --no-progress --out /tmp/holdline-results';
