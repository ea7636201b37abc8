import { readText } from './read.js';

// Kubernetes, when it shows: the service environment every pod gets, the mounted service-account
// token, and the pod name (HOSTNAME is the pod name unless the spec overrides it).

export type K8sFacts =
  | {
      available: true;
      podName: string | null;
      namespace: string | null;
      nodeName: string | null;
      apiServer: string | null;
      serviceAccount: boolean;
      evidence: string[];
    }
  | { available: false; reason: string };

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export function detectKubernetes(
  o: { env?: Record<string, string | undefined>; root?: string } = {},
): K8sFacts {
  const env = o.env ?? process.env;
  const root = (o.root ?? '/').replace(/\/+$/, '');
  const evidence: string[] = [];
  if (env.KUBERNETES_SERVICE_HOST) evidence.push('KUBERNETES_SERVICE_HOST is set');
  const ns = readText(`${root}${SERVICE_ACCOUNT_DIR}/namespace`);
  if (ns.ok) evidence.push(`${SERVICE_ACCOUNT_DIR} is mounted`);
  if (evidence.length === 0)
    return {
      available: false,
      reason: 'KUBERNETES_SERVICE_HOST is not set and no service account is mounted (not a pod)',
    };
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  return {
    available: true,
    // The downward API names these when the manifest asks for them (init k8s does).
    podName: env.POD_NAME ?? env.HOSTNAME ?? null,
    namespace: env.POD_NAMESPACE ?? (ns.ok ? ns.text.trim() || null : null),
    nodeName: env.NODE_NAME ?? null,
    apiServer: host ? `${host.includes(':') ? `[${host}]` : host}:${port}` : null,
    serviceAccount: ns.ok,
    evidence,
  };
}
