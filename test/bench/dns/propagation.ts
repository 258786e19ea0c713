// Propagation: the time from a Service's create request being sent to its name resolving, as a
// client polling the server sees it. A poll goes out every 5 ms without waiting for the previous
// answer, from the moment the create request is sent; the sample ends at the first NOERROR answer
// carrying a record. kubeadm's Corefile disables CoreDNS's cache for the cluster zone, so an early
// NXDOMAIN is not kept by either server. Only the measured contestant is running meanwhile.
// The floor, in the same samples: a bare watch of the namespace in this process, timing the
// same create request to the Service's ADDED event. No DNS server that watches the API server
// can answer before its watch event arrives, so that is as fast as propagation can be here.
import type { CoreV1Api } from "@kubernetes/client-node";
import type { ApiClient } from "../../../pkg/kube/api-client.ts";
import { TYPE_A, UdpProbe } from "./udp-probe.ts";

export const PROPAGATION_NAMESPACE = "bench-propagation";
const POLL_MS = 5;
const GIVE_UP_MS = 30_000;

export interface PropagationOptions {
  readonly core: CoreV1Api;
  /** For the floor's watch. */
  readonly api: ApiClient;
  readonly zone: string;
  readonly dnsPort: number;
  /** Unique per contestant and round, so every sample is a new Service. */
  readonly prefix: string;
  readonly samples: number;
}

export interface Propagation {
  /** Milliseconds per sample, create request to name resolving. */
  readonly ms: number[];
  /** Samples that never resolved within 30 s: left out of `ms`. */
  readonly timedOut: number;
  /** Milliseconds per sample, create request to the bare watch's ADDED event (the floor). */
  readonly floorMs: number[];
}

export async function measurePropagation(o: PropagationOptions): Promise<Propagation> {
  const ms: number[] = [];
  const floorMs: number[] = [];
  let timedOut = 0;
  const probe = new UdpProbe("127.0.0.1", o.dnsPort);
  /** When each Service's ADDED event reached the bare watch, by name. */
  const added = new Map<string, number>();
  const watch = await o.api.watch(`/api/v1/namespaces/${PROPAGATION_NAMESPACE}/services`, {}, {
    onEvent: (e) => {
      const name = (e.object as { metadata?: { name?: string } }).metadata?.name ?? "";
      if (e.type === "ADDED" && !added.has(name)) added.set(name, performance.now());
    },
    onMalformed: () => undefined,
  }, GIVE_UP_MS * 10, "protobuf");
  try {
    for (let k = 0; k < o.samples; k++) {
      const name = `${o.prefix}-${k}`;
      const qname = `${name}.${PROPAGATION_NAMESPACE}.svc.${o.zone}`;
      const t0 = performance.now();
      const resolved = new Promise<number | null>((resolve) => {
        let done = false;
        const finish = (value: number | null): void => {
          if (done) return;
          done = true;
          clearInterval(ticker);
          clearTimeout(giveUp);
          resolve(value);
        };
        const poll = (): void => {
          void probe.ask(qname, TYPE_A, 2000).then((answer) => {
            if (answer !== null && answer.rcode === 0 && answer.answers > 0) finish(performance.now() - t0);
          });
        };
        const ticker = setInterval(poll, POLL_MS);
        const giveUp = setTimeout(() => finish(null), GIVE_UP_MS);
        poll();
      });
      await o.core.createNamespacedService({
        namespace: PROPAGATION_NAMESPACE,
        body: { metadata: { name, namespace: PROPAGATION_NAMESPACE }, spec: { ports: [{ name: "http", port: 80, protocol: "TCP" }] } },
      });
      const result = await resolved;
      if (result === null) timedOut++;
      else ms.push(Number(result.toFixed(2)));
      const seen = added.get(name);
      if (seen !== undefined) floorMs.push(Number((seen - t0).toFixed(2)));
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    probe.close();
    watch.abort();
    await watch.finished.catch(() => undefined);
  }
  return { ms, timedOut, floorMs };
}
