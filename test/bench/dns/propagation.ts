// Propagation: the time from a Service's create request being sent to its name resolving, as a
// client polling the server sees it. A poll goes out every 5 ms without waiting for the previous
// answer, from the moment the create request is sent; the sample ends at the first NOERROR answer
// carrying a record. kubeadm's Corefile disables CoreDNS's cache for the cluster zone, so an early
// NXDOMAIN is not kept by either server. Only the measured contestant is running meanwhile.
import type { CoreV1Api } from "@kubernetes/client-node";
import { TYPE_A, UdpProbe } from "./udp-probe.ts";

export const PROPAGATION_NAMESPACE = "bench-propagation";
const POLL_MS = 5;
const GIVE_UP_MS = 30_000;

export interface PropagationOptions {
  readonly core: CoreV1Api;
  readonly zone: string;
  readonly dnsPort: number;
  /** Unique per contestant and round, so every sample is a new Service. */
  readonly prefix: string;
  readonly samples: number;
}

/** Milliseconds per sample; a sample that never resolved within 30 s is left out and counted. */
export async function measurePropagation(o: PropagationOptions): Promise<{ ms: number[]; timedOut: number }> {
  const ms: number[] = [];
  let timedOut = 0;
  const probe = new UdpProbe("127.0.0.1", o.dnsPort);
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
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    probe.close();
  }
  return { ms, timedOut };
}
