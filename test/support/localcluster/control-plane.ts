// Starts a real Kubernetes control plane from the binaries hack/build-control-plane.sh builds:
// etcd and kube-apiserver, and on request kube-controller-manager and kube-scheduler. Everything
// lives in one temporary directory that stop() removes, and every process is killed when this
// process exits, so an interrupted test leaves nothing behind.
import { mkdtemp, mkdir, rm } from "node:fs/promises";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalClusterError } from "./cluster-error.ts";
import { makePki, type ClusterPki } from "./certs.ts";
import { writeKubeconfig } from "./kubeconfig.ts";
import { freePort } from "./free-port.ts";
import { SupervisedProcess } from "./supervised-process.ts";
import { controlPlaneBinDir, requireBinary } from "./binaries.ts";
import { waitForHttpOk } from "./wait.ts";
import { EtcdClient } from "./etcd-client.ts";

export interface ControlPlaneOptions {
  readonly binDir?: string;
  /** Parent of the temporary directory; the system's tmpdir by default. */
  readonly baseDir?: string;
  readonly serviceCIDR?: string;
  readonly clusterCIDR?: string;
  /** The address the API server advertises in the `kubernetes` Service's endpoints. */
  readonly advertiseAddress?: string;
  /** Address the API server listens on; 127.0.0.1 by default. */
  readonly bindAddress?: string;
  readonly controllerManager?: boolean;
  readonly scheduler?: boolean;
  readonly extraApiServerArgs?: readonly string[];
  readonly extraControllerManagerArgs?: readonly string[];
  readonly log?: (message: string) => void;
}

interface Ports {
  readonly etcdClient: number;
  readonly etcdPeer: number;
  readonly apiServer: number;
  readonly controllerManager: number;
  readonly scheduler: number;
}

const dirsToRemove = new Set<string>();
process.on("exit", () => {
  for (const dir of dirsToRemove) rmSync(dir, { recursive: true, force: true });
});

export class ControlPlane {
  readonly dir: string;
  readonly pki: ClusterPki;
  readonly kubeconfigPath: string;
  readonly apiServerUrl: string;
  readonly etcd: EtcdClient;
  readonly #options: ControlPlaneOptions;
  readonly #binDir: string;
  readonly #ports: Ports;
  /** The API server's secure port. */
  get apiServerPort(): number {
    return this.#ports.apiServer;
  }
  readonly #processes = new Map<string, SupervisedProcess>();

  private constructor(dir: string, binDir: string, pki: ClusterPki, ports: Ports, options: ControlPlaneOptions) {
    this.dir = dir;
    this.pki = pki;
    this.#binDir = binDir;
    this.#ports = ports;
    this.#options = options;
    this.kubeconfigPath = join(dir, "admin.kubeconfig");
    const host = options.bindAddress === undefined || options.bindAddress === "0.0.0.0" ? "127.0.0.1" : options.bindAddress;
    this.apiServerUrl = `https://${host}:${ports.apiServer}`;
    this.etcd = new EtcdClient(`http://127.0.0.1:${ports.etcdClient}`);
  }

  static async start(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
    const binDir = options.binDir ?? controlPlaneBinDir();
    const needed = ["etcd", "kube-apiserver"];
    if (options.controllerManager === true) needed.push("kube-controller-manager");
    if (options.scheduler === true) needed.push("kube-scheduler");
    for (const b of needed) requireBinary(binDir, b);
    const dir = await mkdtemp(join(options.baseDir ?? tmpdir(), "signpost-cp-"));
    dirsToRemove.add(dir);
    await mkdir(join(dir, "logs"));
    await mkdir(join(dir, "pki"));
    const bind = options.bindAddress ?? "127.0.0.1";
    const ips = [...new Set(["127.0.0.1", bind, options.advertiseAddress ?? "127.0.0.1", firstServiceIP(options.serviceCIDR ?? "10.96.0.0/16")])];
    const [pki, etcdClient, etcdPeer, apiServer, controllerManager, scheduler] = await Promise.all([
      makePki(join(dir, "pki"), { apiServerIPs: ips }),
      freePort(), freePort(), freePort(bind === "0.0.0.0" ? "127.0.0.1" : bind), freePort(), freePort(),
    ]);
    const cp = new ControlPlane(dir, binDir, pki, { etcdClient, etcdPeer, apiServer, controllerManager, scheduler }, options);
    try {
      await cp.#writeKubeconfigs();
      await cp.#startEtcd();
      await cp.startApiServer();
      if (options.controllerManager === true) await cp.#startControllerManager();
      if (options.scheduler === true) await cp.#startScheduler();
    } catch (err) {
      await cp.stop();
      throw err;
    }
    return cp;
  }

  #log(message: string): void {
    this.#options.log?.(message);
  }

  #spawn(name: string, args: readonly string[]): SupervisedProcess {
    const p = new SupervisedProcess({
      name,
      command: join(this.#binDir, name),
      args,
      logFile: join(this.dir, "logs", `${name}.log`),
    });
    this.#processes.set(name, p);
    return p;
  }

  async #writeKubeconfigs(): Promise<void> {
    const base = { server: this.apiServerUrl, caFile: this.pki.ca.cert };
    await Promise.all([
      writeKubeconfig(this.kubeconfigPath, { ...base, user: "signpost-admin", certFile: this.pki.admin.cert, keyFile: this.pki.admin.key }),
      writeKubeconfig(join(this.dir, "controller-manager.kubeconfig"), {
        ...base, user: "system:kube-controller-manager", certFile: this.pki.controllerManager.cert, keyFile: this.pki.controllerManager.key,
      }),
      writeKubeconfig(join(this.dir, "scheduler.kubeconfig"), {
        ...base, user: "system:kube-scheduler", certFile: this.pki.scheduler.cert, keyFile: this.pki.scheduler.key,
      }),
    ]);
  }

  async #startEtcd(): Promise<void> {
    const client = `http://127.0.0.1:${this.#ports.etcdClient}`;
    const peer = `http://127.0.0.1:${this.#ports.etcdPeer}`;
    const p = this.#spawn("etcd", [
      "--name=signpost", `--data-dir=${join(this.dir, "etcd")}`,
      `--listen-client-urls=${client}`, `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`, `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=signpost=${peer}`, "--log-level=warn",
      // A test cluster's data is thrown away: skipping fsync makes it several times faster.
      "--unsafe-no-fsync",
    ]);
    this.#log(`etcd starting on ${client}`);
    await waitForHttpOk(`${client}/health`, { process: p, what: "etcd /health", timeoutMs: 30_000 });
  }

  /** Starts kube-apiserver (again, after stopApiServer or killApiServer) and waits for /readyz. */
  async startApiServer(): Promise<void> {
    const existing = this.#processes.get("kube-apiserver");
    if (existing?.running === true) return;
    const o = this.#options;
    const p = this.#spawn("kube-apiserver", [
      `--etcd-servers=${this.etcd.url}`,
      `--bind-address=${o.bindAddress ?? "127.0.0.1"}`,
      `--secure-port=${this.#ports.apiServer}`,
      `--advertise-address=${o.advertiseAddress ?? "127.0.0.1"}`,
      `--service-cluster-ip-range=${o.serviceCIDR ?? "10.96.0.0/16"}`,
      "--service-node-port-range=30000-32767",
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      `--service-account-key-file=${this.pki.serviceAccountPublicKey}`,
      `--service-account-signing-key-file=${this.pki.serviceAccountPrivateKey}`,
      `--cert-dir=${join(this.dir, "apiserver-certs")}`,
      `--tls-cert-file=${this.pki.apiServer.cert}`,
      `--tls-private-key-file=${this.pki.apiServer.key}`,
      `--client-ca-file=${this.pki.ca.cert}`,
      "--authorization-mode=Node,RBAC",
      "--allow-privileged=true",
      "--profiling=false",
      // A loopback advertise address is refused by endpoint validation; without a real one the
      // `kubernetes` Service simply has no endpoints.
      ...(o.advertiseAddress === undefined ? ["--endpoint-reconciler-type=none"] : []),
      ...(o.extraApiServerArgs ?? []),
    ]);
    this.#log(`kube-apiserver starting on ${this.apiServerUrl}`);
    await waitForHttpOk(`${this.apiServerUrl}/readyz`, {
      process: p, what: "kube-apiserver /readyz", timeoutMs: 90_000,
      tls: { ca: this.pki.ca.cert, cert: this.pki.admin.cert, key: this.pki.admin.key },
    });
  }

  /** SIGTERM, as an orderly restart would. */
  async stopApiServer(): Promise<void> {
    await this.#processes.get("kube-apiserver")?.stop();
  }

  /** SIGKILL, as a crash would. */
  async killApiServer(): Promise<void> {
    await this.#processes.get("kube-apiserver")?.kill();
  }

  async #startControllerManager(): Promise<void> {
    const o = this.#options;
    const kubeconfig = join(this.dir, "controller-manager.kubeconfig");
    const p = this.#spawn("kube-controller-manager", [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${this.#ports.controllerManager}`,
      "--leader-elect=false",
      "--allocate-node-cidrs=true",
      `--cluster-cidr=${o.clusterCIDR ?? "10.244.0.0/16"}`,
      "--node-cidr-mask-size=24",
      `--service-cluster-ip-range=${o.serviceCIDR ?? "10.96.0.0/16"}`,
      "--use-service-account-credentials=true",
      `--service-account-private-key-file=${this.pki.serviceAccountPrivateKey}`,
      `--root-ca-file=${this.pki.ca.cert}`,
      `--cluster-signing-cert-file=${this.pki.ca.cert}`,
      `--cluster-signing-key-file=${this.pki.ca.key}`,
      `--cert-dir=${join(this.dir, "controller-manager-certs")}`,
      "--controllers=*",
      ...(o.extraControllerManagerArgs ?? []),
    ]);
    this.#log("kube-controller-manager starting");
    await waitForHttpOk(`https://127.0.0.1:${this.#ports.controllerManager}/healthz`, {
      process: p, what: "kube-controller-manager /healthz", timeoutMs: 60_000, tls: "insecure",
    });
  }

  async #startScheduler(): Promise<void> {
    const kubeconfig = join(this.dir, "scheduler.kubeconfig");
    const p = this.#spawn("kube-scheduler", [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${this.#ports.scheduler}`,
      "--leader-elect=false",
    ]);
    this.#log("kube-scheduler starting");
    await waitForHttpOk(`https://127.0.0.1:${this.#ports.scheduler}/healthz`, {
      process: p, what: "kube-scheduler /healthz", timeoutMs: 60_000, tls: "insecure",
    });
  }

  /** Every component's process that is still running, by binary name. */
  runningComponents(): string[] {
    return [...this.#processes.values()].filter((p) => p.running).map((p) => p.name);
  }

  /** Stops every component (in reverse start order) and removes the directory. */
  async stop(): Promise<void> {
    const order = ["kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd"];
    for (const name of order) await this.#processes.get(name)?.stop();
    await rm(this.dir, { recursive: true, force: true });
    dirsToRemove.delete(this.dir);
  }
}

/** The first usable address of a CIDR: the `kubernetes` Service's ClusterIP. */
export function firstServiceIP(cidr: string): string {
  const [base] = cidr.split("/");
  if (base === undefined || base.includes(":")) return "::1";
  const octets = base.split(".").map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) {
    throw new LocalClusterError("serviceCIDR", `${cidr} is not an IPv4 CIDR`);
  }
  const n = (((octets[0] ?? 0) << 24) | ((octets[1] ?? 0) << 16) | ((octets[2] ?? 0) << 8) | (octets[3] ?? 0)) >>> 0;
  const f = n + 1;
  return [f >>> 24, (f >>> 16) & 255, (f >>> 8) & 255, f & 255].join(".");
}
