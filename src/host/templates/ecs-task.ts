import { PLACEHOLDERS, RUN_SCRIPT, testEnvironment, type TemplateOptions } from './options.js';

// A Fargate task definition for a load generator: enough open files for tens of thousands of
// sockets, a wide ephemeral port range, logs in CloudWatch (EMF lines become metrics there).

export const NOFILE = 65536;

export function buildEcsTaskDefinition(o: TemplateOptions): Record<string, unknown> {
  return {
    family: o.name,
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpu: String(o.cpu),
    memory: String(o.memoryMiB),
    runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: 'X86_64' },
    executionRoleArn: `arn:aws:iam::${PLACEHOLDERS.account}:role/ecsTaskExecutionRole`,
    containerDefinitions: [
      {
        name: o.name,
        image: o.image,
        essential: true,
        entryPoint: ['sh', '-c'],
        command: [RUN_SCRIPT],
        environment: testEnvironment(o),
        // Defaults differ between launch types and platform versions: set both limits explicitly.
        ulimits: [{ name: 'nofile', softLimit: NOFILE, hardLimit: NOFILE }],
        // Namespaced sysctls, allowed on Fargate platform 1.4.0+ (awsvpc: they apply to the whole task).
        systemControls: [
          { namespace: 'net.ipv4.ip_local_port_range', value: '1024 65535' },
          { namespace: 'net.core.somaxconn', value: '4096' },
        ],
        logConfiguration: {
          logDriver: 'awslogs',
          options: {
            'awslogs-group': `/ecs/${o.name}`,
            'awslogs-region': o.region,
            'awslogs-stream-prefix': o.name,
            'awslogs-create-group': 'true',
          },
        },
      },
    ],
  };
}

/** Memory sizes (MiB) Fargate accepts for a CPU size (in CPU units), or null for an unknown CPU size. */
export function fargateMemoryChoices(cpu: number): number[] | null {
  const range = (from: number, to: number, step: number): number[] =>
    Array.from({ length: (to - from) / step + 1 }, (_, i) => from + i * step);
  switch (cpu) {
    case 256:
      return [512, 1024, 2048];
    case 512:
      return range(1024, 4096, 1024);
    case 1024:
      return range(2048, 8192, 1024);
    case 2048:
      return range(4096, 16384, 1024);
    case 4096:
      return range(8192, 30720, 1024);
    case 8192:
      return range(16384, 61440, 4096);
    case 16384:
      return range(32768, 122880, 8192);
    default:
      return null;
  }
}
