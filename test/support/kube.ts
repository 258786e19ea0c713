// What integration tests share: clients for the control plane and a namespace of their own.
import { randomBytes } from "node:crypto";
import { CoreV1Api, DiscoveryV1Api, KubeConfig, type V1Service, type V1EndpointSlice } from "@kubernetes/client-node";
import pino from "pino";
import { ApiClient } from "../../pkg/kube/api-client.ts";

export function kubeConfigFrom(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

export interface TestClients {
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly discovery: DiscoveryV1Api;
  readonly api: ApiClient;
}

export function clients(kubeconfigPath: string): TestClients {
  const kc = kubeConfigFrom(kubeconfigPath);
  return { kc, core: kc.makeApiClient(CoreV1Api), discovery: kc.makeApiClient(DiscoveryV1Api), api: new ApiClient(kc) };
}

export async function createNamespace(core: CoreV1Api, prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString("hex")}`;
  await core.createNamespace({ body: { metadata: { name } } });
  return name;
}

/** A logger that keeps its lines for assertions and stays quiet unless SIGNPOST_TEST_LOG is set. */
export function testLogger(): { log: pino.Logger; lines: () => Record<string, unknown>[] } {
  const kept: Record<string, unknown>[] = [];
  const log = pino(
    { level: "debug" },
    {
      write(line: string) {
        kept.push(JSON.parse(line) as Record<string, unknown>);
        if (process.env["SIGNPOST_TEST_LOG"] !== undefined) process.stderr.write(line);
      },
    },
  );
  return { log, lines: () => kept };
}

export function service(namespace: string, name: string, port = 80, extra: Partial<V1Service["spec"]> = {}): V1Service {
  return {
    metadata: { name, namespace },
    spec: { ports: [{ name: "http", port, protocol: "TCP" }], selector: { app: name }, ...extra },
  };
}

export function endpointSlice(namespace: string, name: string, serviceName: string, ips: readonly string[]): V1EndpointSlice {
  return {
    metadata: { name, namespace, labels: { "kubernetes.io/service-name": serviceName } },
    addressType: "IPv4",
    ports: [{ name: "http", port: 8080, protocol: "TCP" }],
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true, serving: true, terminating: false } })),
  };
}
