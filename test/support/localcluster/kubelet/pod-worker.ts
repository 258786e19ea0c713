// One pod's life on a local node: sandbox, one process per container (through the image table),
// restarts by restartPolicy, readiness probes, status reports, and graceful termination when
// the pod is deleted (SIGTERM, grace period, SIGKILL, then the final delete), so EndpointSlices
// see the endpoint terminating before it goes.
import { CoreV1Api, PatchStrategy, setHeaderOptions, type V1Container, type V1Pod } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { SupervisedProcess } from "../supervised-process.ts";
import { resolveImage } from "../images.ts";
import { createSandbox, destroySandbox, sandboxArgv, type Sandbox, type SandboxDeps } from "./pod-sandbox.ts";
import { buildPodStatus, type ContainerRuntimeState } from "./pod-status.ts";
import { runProbe } from "./probes.ts";
import { containerEnv, expandVars } from "./container-env.ts";
import { containerMounts, prepareVolumes } from "./pod-volumes.ts";
import { existsSync } from "node:fs";

export interface PodWorkerDeps extends SandboxDeps {
  readonly log: Logger;
  readonly repoRoot: string;
  readonly nodeBinary: string;
  /** KUBERNETES_SERVICE_HOST and _PORT as the kubelet sets them. */
  readonly apiService: { readonly host: string; readonly port: string };
  /** Told of each mount point a container needs that does not exist on the host yet. */
  readonly noteMountPoint: (path: string) => void;
}

interface ContainerRun {
  readonly spec: V1Container;
  state: ContainerRuntimeState;
  restartCount: number;
  process: SupervisedProcess | null;
  probeSuccesses: number;
  probeFailures: number;
}

export class PodWorker {
  readonly #d: PodWorkerDeps;
  readonly #core: CoreV1Api;
  #pod: V1Pod;
  #sandbox: Sandbox | null = null;
  #volumes = new Map<string, string>();
  #containers: ContainerRun[] = [];
  #terminating = false;
  #finished = false;
  readonly #stop = new AbortController();
  #statusChain: Promise<void> = Promise.resolve();
  readonly #conditions = new Map<string, { status: string; at: string }>();
  readonly #startTime = new Date();

  constructor(pod: V1Pod, deps: PodWorkerDeps) {
    this.#pod = pod;
    this.#d = deps;
    this.#core = deps.kc.makeApiClient(CoreV1Api);
  }

  get #key(): string {
    return `${this.#pod.metadata?.namespace ?? ""}/${this.#pod.metadata?.name ?? ""}`;
  }

  async start(): Promise<void> {
    const spec = this.#pod.spec;
    this.#containers = (spec?.containers ?? []).map((c) => ({
      spec: c, restartCount: 0, process: null, probeSuccesses: 0, probeFailures: 0,
      state: { kind: "waiting", reason: "ContainerCreating", message: "" },
    }));
    try {
      this.#sandbox = await createSandbox(this.#pod, this.#d);
      this.#volumes = await prepareVolumes(this.#pod, this.#sandbox.dir, this.#d.kc);
    } catch (err) {
      this.#d.log.error({ pod: this.#key, err }, "pod sandbox failed");
      for (const c of this.#containers) c.state = { kind: "waiting", reason: "CreateContainerError", message: `sandbox: ${String(err)}` };
      this.#report();
      return;
    }
    for (const c of this.#containers) await this.#startContainer(c);
    this.#report();
  }

  /** The current process of a container, or null when it has none (fault tests signal it). */
  containerProcess(name: string): SupervisedProcess | null {
    return this.#containers.find((c) => c.spec.name === name)?.process ?? null;
  }

  /** A newer version of the pod arrived; deletion starts graceful termination. */
  update(pod: V1Pod): void {
    this.#pod = pod;
    if (pod.metadata?.deletionTimestamp !== undefined && !this.#terminating) void this.terminate();
  }

  async #startContainer(c: ContainerRun): Promise<void> {
    const sandbox = this.#sandbox;
    if (sandbox === null || this.#terminating) return;
    const ports = (c.spec.ports ?? []).map((p) => p.containerPort);
    const env = await containerEnv(this.#pod, c.spec, sandbox.podIP, this.#d.nodeIP, this.#core);
    const launch = resolveImage(
      { image: c.spec.image ?? "", command: (c.spec.command ?? []).map((s) => expandVars(s, env)), args: (c.spec.args ?? []).map((s) => expandVars(s, env)), ports },
      { repoRoot: this.#d.repoRoot, node: this.#d.nodeBinary },
    );
    if (launch === null) {
      c.state = { kind: "waiting", reason: "ErrImagePull", message: `image "${c.spec.image ?? ""}" has no mapping in the local cluster's image table (test/support/localcluster/images.ts)` };
      this.#d.log.warn({ pod: this.#key, container: c.spec.name, image: c.spec.image }, "image has no mapping");
      return;
    }
    const hostname = (this.#pod.spec?.hostname ?? this.#pod.metadata?.name ?? "pod").slice(0, 63);
    const mounts = containerMounts(c.spec, this.#volumes);
    // The script makes missing mount points with their parents (mkdir -p): note each one.
    for (const m of mounts) {
      for (let p = m.target; p !== "/" && p !== "." && !existsSync(p); p = dirname(p)) this.#d.noteMountPoint(p);
    }
    const argv = sandboxArgv(sandbox, hostname, mounts, launch.command, launch.args);
    const p = new SupervisedProcess({
      name: `${this.#key}/${c.spec.name}`,
      command: argv.command,
      args: argv.args,
      logFile: join(sandbox.dir, `${c.spec.name}.log`),
      env: {
        KUBERNETES_SERVICE_HOST: this.#d.apiService.host,
        KUBERNETES_SERVICE_PORT: this.#d.apiService.port,
        KUBERNETES_SERVICE_PORT_HTTPS: this.#d.apiService.port,
        HOSTNAME: hostname,
        ...launch.env,
        ...env,
      },
    });
    c.process = p;
    c.probeSuccesses = 0;
    c.probeFailures = 0;
    const startedAt = new Date();
    c.state = { kind: "running", startedAt, ready: c.spec.readinessProbe === undefined };
    void this.#watchExit(c, p, startedAt);
    if (c.spec.readinessProbe !== undefined) void this.#probeLoop(c, p);
  }

  async #watchExit(c: ContainerRun, p: SupervisedProcess, startedAt: Date): Promise<void> {
    const code = await p.exited;
    if (this.#terminating || c.process !== p) return;
    const exitCode = code ?? 137;
    c.state = { kind: "terminated", exitCode, reason: exitCode === 0 ? "Completed" : "Error", startedAt, finishedAt: new Date() };
    this.#d.log.info({ pod: this.#key, container: c.spec.name, exitCode, log: p.tail(5) }, "container exited");
    this.#report();
    const policy = this.#pod.spec?.restartPolicy ?? "Always";
    if (policy === "Never" || (policy === "OnFailure" && exitCode === 0)) return;
    const delay = Math.min(30_000, 1000 * 2 ** c.restartCount);
    try {
      await sleep(delay, undefined, { signal: this.#stop.signal });
    } catch {
      return;
    }
    c.restartCount++;
    await this.#startContainer(c);
    this.#report();
  }

  async #probeLoop(c: ContainerRun, p: SupervisedProcess): Promise<void> {
    const probe = c.spec.readinessProbe;
    const sandbox = this.#sandbox;
    if (probe === undefined || sandbox === null) return;
    const period = Math.max(1, probe.periodSeconds ?? 10) * 1000;
    try {
      await sleep((probe.initialDelaySeconds ?? 0) * 1000, undefined, { signal: this.#stop.signal });
      while (c.process === p && p.running) {
        const outcome = await runProbe(probe, c.spec, { podIP: sandbox.podIP, netns: sandbox.netns });
        if (c.state.kind !== "running" || c.process !== p) return;
        const wasReady = c.state.ready;
        if (outcome === "success") {
          c.probeSuccesses++;
          c.probeFailures = 0;
          if (!wasReady && c.probeSuccesses >= (probe.successThreshold ?? 1)) c.state = { ...c.state, ready: true };
        } else {
          c.probeFailures++;
          c.probeSuccesses = 0;
          if (wasReady && c.probeFailures >= (probe.failureThreshold ?? 3)) c.state = { ...c.state, ready: false };
        }
        if (c.state.ready !== wasReady) this.#report();
        await sleep(period, undefined, { signal: this.#stop.signal });
      }
    } catch {
      // stopped
    }
  }

  /** Queues a status report; reports go out one at a time, each with the latest state. */
  #report(): void {
    this.#statusChain = this.#statusChain.then(() => this.#sendStatus()).catch((err: unknown) => {
      this.#d.log.warn({ pod: this.#key, err }, "pod status update failed");
    });
  }

  async #sendStatus(): Promise<void> {
    if (this.#finished) return;
    const status = buildPodStatus(
      {
        podIP: this.#sandbox?.podIP ?? "",
        hostIP: this.#d.nodeIP,
        startTime: this.#startTime,
        restartPolicy: this.#pod.spec?.restartPolicy ?? "Always",
        containers: this.#containers.map((c) => ({ name: c.spec.name, image: c.spec.image ?? "", state: c.state, restartCount: c.restartCount })),
      },
      new Date(),
      this.#conditions,
    );
    for (const cond of status.conditions) this.#conditions.set(cond.type, { status: cond.status, at: cond.lastTransitionTime });
    await this.#core.patchNamespacedPodStatus(
      { name: this.#pod.metadata?.name ?? "", namespace: this.#pod.metadata?.namespace ?? "", body: { status } },
      setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch),
    );
  }

  /** SIGTERM, the pod's grace period, SIGKILL; then the sandbox goes and the pod is deleted for good. */
  async terminate(): Promise<void> {
    if (this.#terminating) return;
    this.#terminating = true;
    const graceMs = (this.#pod.metadata?.deletionGracePeriodSeconds ?? this.#pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
    this.#d.log.info({ pod: this.#key, graceMs }, "terminating pod");
    await Promise.all(this.#containers.map((c) => c.process?.stop(graceMs) ?? Promise.resolve()));
    this.#stop.abort();
    await this.#statusChain;
    this.#finished = true;
    if (this.#sandbox !== null) await destroySandbox(this.#sandbox, this.#d);
    this.#sandbox = null;
    try {
      await this.#core.deleteNamespacedPod({
        name: this.#pod.metadata?.name ?? "", namespace: this.#pod.metadata?.namespace ?? "",
        // With a body, the API server reads the options from it and ignores the query.
        body: { gracePeriodSeconds: 0, preconditions: { uid: this.#pod.metadata?.uid ?? "" } },
      });
    } catch (err) {
      if ((err as { code?: number }).code !== 404) this.#d.log.warn({ pod: this.#key, err }, "final pod delete failed");
    }
  }

  /** The pod is gone from the API (or the node stops): kill at once and clean up. */
  async kill(): Promise<void> {
    this.#terminating = true;
    this.#finished = true;
    this.#stop.abort();
    await Promise.all(this.#containers.map((c) => c.process?.kill() ?? Promise.resolve()));
    if (this.#sandbox !== null) await destroySandbox(this.#sandbox, this.#d);
    this.#sandbox = null;
  }
}
