import YAML from 'yaml';
import { RUN_SCRIPT, testEnvironment, type TemplateOptions } from './options.js';

// A Kubernetes Job that runs the ladder once. Pods have no ulimit field: the open-file limit comes
// from the container runtime on the node, which `holdline env` prints at the top of the logs.

function cpuQuantity(units: number): string {
  return units % 1024 === 0 ? String(units / 1024) : `${Math.round((units / 1024) * 1000)}m`;
}

export function buildK8sJob(o: TemplateOptions): Record<string, unknown> {
  const size = { cpu: cpuQuantity(o.cpu), memory: `${o.memoryMiB}Mi` };
  const fieldEnv = (name: string, fieldPath: string): Record<string, unknown> => ({
    name,
    valueFrom: { fieldRef: { fieldPath } },
  });
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: `${o.name}-capacity`, labels: { app: o.name } },
    spec: {
      backoffLimit: 0,
      ttlSecondsAfterFinished: 86_400,
      template: {
        metadata: { labels: { app: o.name } },
        spec: {
          restartPolicy: 'Never',
          // A safe sysctl (no kubelet allow-list needed): a full ephemeral port range per pod.
          securityContext: { sysctls: [{ name: 'net.ipv4.ip_local_port_range', value: '1024 65535' }] },
          containers: [
            {
              name: o.name,
              image: o.image,
              command: ['sh', '-c', RUN_SCRIPT],
              env: [
                ...testEnvironment(o),
                fieldEnv('POD_NAME', 'metadata.name'),
                fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
                fieldEnv('NODE_NAME', 'spec.nodeName'),
              ],
              // Requests equal to limits: the pod gets Guaranteed QoS and the quota `holdline env` reports.
              resources: { requests: size, limits: size },
            },
          ],
        },
      },
    },
  };
}

export function renderK8sJob(o: TemplateOptions): string {
  const doc = new YAML.Document(buildK8sJob(o));
  doc.commentBefore =
    ' holdline capacity run as a Kubernetes Job.\n' +
    ' Replace every <PLACEHOLDER>, then: kubectl apply -f job.yaml && kubectl logs -f job/' +
    `${o.name}-capacity`;
  return doc.toString({ lineWidth: 0 });
}
