// The local cluster: the real control plane plus N nodes made of network namespaces, each with a
// netns kubelet, and an "external client" namespace on the node network outside the cluster.
// It must run in a namespace of its own with no route out (hack/test.sh and hack/local-up.sh
// make one); stop() removes every namespace, process, route and directory it made.
import { mkdir, mkdtemp, readdir, rm, rmdir, stat, unlink, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join, relative } from "node:path";
import { tmpdir } from "node:os";
import type { Logger } from "pino";
import { KubeConfig } from "@kubernetes/client-node";
import { ControlPlane } from "./control-plane.ts";
import { Kubelet } from "./kubelet/kubelet.ts";
import { startUpstreamDns, type UpstreamDns } from "./upstream-dns.ts";
import { controlPlaneBinDir } from "./binaries.ts";
import { execa } from "execa";
import { SERVICE_ACCOUNT_DIR, podNetnsName } from "./kubelet/pod-sandbox.ts";
import {
  addRoute, attachHost, createNetns, createUnderlay, deleteNetns, deleteRoute, deleteUnderlay, makeNode, writeNetnsEtc, type Underlay,
} from "./node-network.ts";

export interface LocalClusterOptions {
  readonly nodes?: number;
  readonly log: Logger;
  /** Prefix of every namespace and link name; SIGNPOST_RUN or "signpost-local". */
  readonly prefix?: string;
  readonly baseDir?: string;
  readonly repoRoot: string;
  readonly extraApiServerArgs?: readonly string[];
  readonly extraControllerManagerArgs?: readonly string[];
}

export interface LocalNode {
  readonly name: string;
  readonly ip: string;
  readonly netns: string;
  readonly podCIDR: string;
  readonly kubelet: Kubelet;
}

export const UNDERLAY_PREFIX = "172.30.0";
export const CLUSTER_DNS_IP = "10.96.0.10";
export const EXTERNAL_CLIENT_IP = `${UNDERLAY_PREFIX}.100`;

export class LocalCluster {
  readonly controlPlane: ControlPlane;
  readonly nodes: LocalNode[] = [];
  readonly externalNetns: string;
  readonly dir: string;
  readonly #underlay: Underlay;
  #upstreamDns: UpstreamDns | null = null;
  readonly #createdSecretsDir: boolean;
  readonly #prefix: string;
  /** Mount points the kubelets made on the host for pods' volumes, removed at stop. */
  readonly #mountPoints = new Set<string>();

  private constructor(cp: ControlPlane, underlay: Underlay, externalNetns: string, dir: string, createdSecretsDir: boolean, prefix: string) {
    this.#prefix = prefix;
    this.controlPlane = cp;
    this.#underlay = underlay;
    this.externalNetns = externalNetns;
    this.dir = dir;
    this.#createdSecretsDir = createdSecretsDir;
  }

  get kubeconfigPath(): string {
    return this.controlPlane.kubeconfigPath;
  }

  static async start(o: LocalClusterOptions): Promise<LocalCluster> {
    const prefix = o.prefix ?? process.env["SIGNPOST_RUN"] ?? "signpost-local";
    const dir = await mkdtemp(join(o.baseDir ?? tmpdir(), "signpost-cluster-"));
    // The token path must exist as a mount point; it is made once and removed again at stop.
    const createdSecretsDir = !existsSync("/var/run/secrets");
    if (!existsSync(SERVICE_ACCOUNT_DIR)) await mkdir(SERVICE_ACCOUNT_DIR, { recursive: true });
    const gateway = `${UNDERLAY_PREFIX}.1`;
    const underlay = await createUnderlay(`spul${randomBytes(4).toString("hex")}`, gateway, 24);
    const externalNetns = `${prefix}-ext`;
    let cp: ControlPlane | undefined;
    let c: LocalCluster | undefined;
    try {
      cp = await ControlPlane.start({
        baseDir: dir, bindAddress: "0.0.0.0", advertiseAddress: gateway, controllerManager: true, scheduler: true,
        // The tutorial's NodePort 8090 lies below the default 30000-32767 range.
        extraApiServerArgs: ["--service-node-port-range=8000-32767", ...(o.extraApiServerArgs ?? [])],
        extraControllerManagerArgs: o.extraControllerManagerArgs ?? [],
        log: (m) => o.log.info(m),
      });
      const cluster = new LocalCluster(cp, underlay, externalNetns, dir, createdSecretsDir, prefix);
      c = cluster;
      cluster.#upstreamDns = startUpstreamDns(gateway, dir);
      await createNetns(externalNetns);
      await attachHost(externalNetns, underlay, EXTERNAL_CLIENT_IP);
      const kc = new KubeConfig();
      kc.loadFromFile(c.kubeconfigPath);
      const count = o.nodes ?? 2;
      for (let i = 1; i <= count; i++) {
        const name = `node-${i}`;
        const netns = `${prefix}-${name}`;
        const ip = `${UNDERLAY_PREFIX}.${10 + i}`;
        await createNetns(netns);
        await attachHost(netns, underlay, ip);
        await makeNode(netns);
        await writeNetnsEtc(netns, { resolvConf: `nameserver ${gateway}\n` });
        const kubelet = await Kubelet.start({
          kc, log: o.log.child({ node: name }), nodeName: name, nodeIP: ip, nodeNetns: netns, zone: `zone-${((i - 1) % 2) + 1}`,
          netnsPrefix: `${prefix}-${name}`, podsDir: join(dir, "pods", name), caFile: c.controlPlane.pki.ca.cert,
          dns: { clusterDNS: [CLUSTER_DNS_IP], clusterDomain: "cluster.local", nodeResolvConf: `nameserver ${gateway}\n` },
          repoRoot: o.repoRoot, apiService: { host: "10.96.0.1", port: "443" },
          noteMountPoint: (path) => cluster.#mountPoints.add(path),
        });
        c.nodes.push({ name, ip, netns, podCIDR: kubelet.podCIDR, kubelet });
      }
      // host-gw: every node, and the harness, reach each pod CIDR through its node.
      for (const n of c.nodes) {
        await addRoute(null, n.podCIDR, n.ip);
        for (const other of c.nodes) if (other !== n) await addRoute(other.netns, n.podCIDR, n.ip);
      }
      return c;
    } catch (err) {
      if (c !== undefined) await c.stop();
      else {
        await cp?.stop();
        await deleteNetns(externalNetns);
        await deleteUnderlay(underlay);
        await rm(dir, { recursive: true, force: true });
      }
      throw err;
    }
  }

  /** The network namespace a pod runs in, from its node and uid. */
  podNetns(nodeName: string, uid: string, hostNetwork = false): string {
    const node = this.nodes.find((n) => n.name === nodeName);
    if (node === undefined) throw new Error(`no node ${nodeName}`);
    return hostNetwork ? node.netns : podNetnsName(`${this.#prefix}-${nodeName}`, uid);
  }

  /** The API server's address as nodes and pods reach it (not loopback). */
  get apiServerOnUnderlay(): string {
    return `https://${this.#underlay.gateway}:${this.controlPlane.apiServerPort}`;
  }

  /**
   * Writes a kustomize overlay of deploy/ that only points the proxy at this cluster's API server
   * (the one value deploy/ leaves to the operator), and returns its directory.
   */
  async writeSignpostOverlay(repoRoot: string, components: readonly string[] = []): Promise<string> {
    const overlay = join(this.dir, "deploy-overlay");
    await mkdir(overlay, { recursive: true });
    const kustomization = [
      "# deploy/, pointed at this local cluster's API server.",
      "resources:",
      `  - ${relative(overlay, join(repoRoot, "deploy"))}`,
      "patches:",
      "  - target: { kind: DaemonSet, name: signpost-proxy }",
      "    patch: |",
      "      - op: replace",
      "        path: /spec/template/spec/containers/0/env/1/value",
      `        value: "${this.#underlay.gateway}"`,
      "      - op: replace",
      "        path: /spec/template/spec/containers/0/env/2/value",
      `        value: "${this.controlPlane.apiServerPort}"`,
      ...(components.length === 0 ? [] : ["components:", ...components.map((dir) => `  - ${relative(overlay, join(repoRoot, dir))}`)]),
      "",
    ].join("\n");
    await writeFile(join(overlay, "kustomization.yaml"), kustomization);
    return overlay;
  }

  /** Applies deploy/ as an operator would (`kubectl apply -k`), through the overlay, with the components named (deploy/node-local). Returns kubectl's output. */
  async applySignpost(repoRoot: string, components: readonly string[] = []): Promise<string> {
    const overlay = await this.writeSignpostOverlay(repoRoot, components);
    const r = await execa(join(controlPlaneBinDir(), "kubectl"), ["--kubeconfig", this.kubeconfigPath, "apply", "-k", overlay], { reject: false });
    if (r.exitCode !== 0) throw new Error(`kubectl apply -k deploy/ failed: ${r.stderr}`);
    return r.stdout;
  }

  async stop(): Promise<void> {
    for (const n of this.nodes) await n.kubelet.stop();
    await this.#upstreamDns?.stop();
    for (const n of this.nodes) {
      await deleteRoute(null, n.podCIDR);
      await deleteNetns(n.netns);
    }
    await deleteNetns(this.externalNetns);
    await deleteUnderlay(this.#underlay);
    await this.controlPlane.stop();
    // SIGNPOST_KEEP_CLUSTER_DIR=1 keeps the pods' logs and manifests for a look after a failure.
    if (process.env["SIGNPOST_KEEP_CLUSTER_DIR"] === undefined) await rm(this.dir, { recursive: true, force: true });
    if (this.#createdSecretsDir) await rm("/var/run/secrets", { recursive: true, force: true });
    // Deepest first; only what is still empty, in case something else has come to use it.
    for (const path of [...this.#mountPoints].sort((a, b) => b.length - a.length)) await removeIfEmpty(path);
  }
}

async function removeIfEmpty(path: string): Promise<void> {
  try {
    const st = await stat(path);
    if (st.isDirectory()) {
      if ((await readdir(path)).length === 0) await rmdir(path);
    } else if (st.size === 0) {
      await unlink(path);
    }
  } catch {
    // gone already
  }
}
