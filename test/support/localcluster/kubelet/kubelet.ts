// A kubelet for the local cluster: registers its Node, keeps its lease, and runs the pods bound
// to it in network namespaces, through PodWorker. It runs in the harness namespace, beside the
// API server; only the pods' processes enter the node's and pods' namespaces.
import type { KubeConfig, V1Pod } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { ApiClient } from "../../../../pkg/kube/api-client.ts";
import { Informer } from "../../../../pkg/kube/informer.ts";
import { heartbeat, registerNode, waitForPodCIDR } from "./node-registration.ts";
import { PodCIDRAllocator } from "./pod-cidr-allocator.ts";
import { PodWorker, type PodWorkerDeps } from "./pod-worker.ts";
import type { ClusterDnsSettings } from "./dns-config.ts";
import type { SupervisedProcess } from "../supervised-process.ts";

export interface KubeletOptions {
  readonly kc: KubeConfig;
  readonly log: Logger;
  readonly nodeName: string;
  readonly nodeIP: string;
  readonly nodeNetns: string;
  readonly zone: string;
  readonly netnsPrefix: string;
  readonly podsDir: string;
  readonly caFile: string;
  readonly dns: ClusterDnsSettings;
  readonly repoRoot: string;
  readonly apiService: { readonly host: string; readonly port: string };
  readonly noteMountPoint: (path: string) => void;
}

export class Kubelet {
  readonly podCIDR: string;
  readonly #o: KubeletOptions;
  readonly #stop = new AbortController();
  readonly #workers = new Map<string, PodWorker>();
  readonly #informer: Informer<V1Pod>;
  readonly #deps: PodWorkerDeps;
  #heartbeat: Promise<void> = Promise.resolve();

  private constructor(o: KubeletOptions, podCIDR: string) {
    this.#o = o;
    this.podCIDR = podCIDR;
    const ipam = new PodCIDRAllocator(podCIDR);
    this.#deps = {
      kc: o.kc, log: o.log, repoRoot: o.repoRoot, nodeBinary: process.execPath, apiService: o.apiService,
      nodeNetns: o.nodeNetns, nodeIP: o.nodeIP, netnsPrefix: o.netnsPrefix, podsDir: o.podsDir,
      caFile: o.caFile, dns: o.dns, noteMountPoint: o.noteMountPoint, allocateIP: () => ipam.allocate(), releaseIP: (ip) => ipam.release(ip),
    };
    this.#informer = new Informer<V1Pod>({
      name: `pods@${o.nodeName}`, path: "/api/v1/pods", fieldSelector: `spec.nodeName=${o.nodeName}`,
      client: new ApiClient(o.kc), log: o.log, // Pods are kept as the API gives them: the kubelet reads much of the spec.
      convert: (raw): V1Pod => raw,
    });
    this.#informer.onEvent((e) => {
      switch (e.type) {
        case "add":
        case "update":
          this.#onPod(e.key, e.object);
          break;
        case "delete":
          this.#onGone(e.key);
          break;
      }
    });
  }

  static async start(o: KubeletOptions): Promise<Kubelet> {
    const node = { name: o.nodeName, ip: o.nodeIP, zone: o.zone };
    await registerNode(o.kc, node);
    const stop = new AbortController();
    const podCIDR = await waitForPodCIDR(o.kc, o.nodeName, stop.signal);
    const k = new Kubelet(o, podCIDR);
    k.#heartbeat = heartbeat(o.kc, node, o.log, k.#stop.signal);
    k.#informer.start();
    await k.#informer.synced();
    o.log.info({ node: o.nodeName, podCIDR }, "kubelet ready");
    return k;
  }

  /** The current process of a pod's container on this node, or null (fault tests signal it). */
  containerProcess(namespace: string, pod: string, container: string): SupervisedProcess | null {
    return this.#workers.get(`${namespace}/${pod}`)?.containerProcess(container) ?? null;
  }

  #onPod(key: string, pod: V1Pod): void {
    const existing = this.#workers.get(key);
    if (existing !== undefined) {
      existing.update(pod);
      return;
    }
    const phase = pod.status?.phase;
    if (phase === "Succeeded" || phase === "Failed") return;
    const worker = new PodWorker(pod, this.#deps);
    this.#workers.set(key, worker);
    if (pod.metadata?.deletionTimestamp !== undefined) {
      void worker.terminate();
      return;
    }
    worker.start().catch((err: unknown) => this.#o.log.error({ pod: key, err }, "pod start failed"));
  }

  #onGone(key: string): void {
    const worker = this.#workers.get(key);
    this.#workers.delete(key);
    void worker?.kill();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#informer.stop();
    await Promise.all([...this.#workers.values()].map((w) => w.kill()));
    this.#workers.clear();
    await this.#heartbeat;
  }
}
