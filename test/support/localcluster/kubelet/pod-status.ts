// Builds the status a kubelet reports for a pod from what the local runtime knows of it: the
// phase, the four standard conditions, and one status per container.

export type ContainerRuntimeState =
  | { readonly kind: "waiting"; readonly reason: string; readonly message: string }
  | { readonly kind: "running"; readonly startedAt: Date; readonly ready: boolean }
  | { readonly kind: "terminated"; readonly exitCode: number; readonly reason: string; readonly startedAt: Date; readonly finishedAt: Date };

export interface ContainerView {
  readonly name: string;
  readonly image: string;
  readonly state: ContainerRuntimeState;
  readonly restartCount: number;
}

export interface PodView {
  readonly podIP: string;
  readonly hostIP: string;
  readonly startTime: Date;
  readonly containers: readonly ContainerView[];
  readonly restartPolicy: string;
}

export interface PodStatusPatch {
  readonly phase: string;
  readonly podIP: string;
  readonly podIPs: readonly { ip: string }[];
  readonly hostIP: string;
  readonly hostIPs: readonly { ip: string }[];
  readonly startTime: string;
  readonly conditions: readonly { type: string; status: string; lastTransitionTime: string; reason?: string }[];
  readonly containerStatuses: readonly Record<string, unknown>[];
}

export function podPhase(v: PodView): string {
  const states = v.containers.map((c) => c.state);
  if (states.some((s) => s.kind === "running")) return "Running";
  if (states.length > 0 && states.every((s) => s.kind === "terminated")) {
    const failed = states.some((s) => s.kind === "terminated" && s.exitCode !== 0);
    if (v.restartPolicy === "Always") return "Running";
    return failed ? "Failed" : "Succeeded";
  }
  return "Pending";
}

export function buildPodStatus(v: PodView, now: Date, previous: ReadonlyMap<string, { status: string; at: string }> = new Map()): PodStatusPatch {
  const ready = v.containers.length > 0 && v.containers.every((c) => c.state.kind === "running" && c.state.ready);
  const condition = (type: string, ok: boolean, reason?: string): PodStatusPatch["conditions"][number] => {
    const status = ok ? "True" : "False";
    const prev = previous.get(type);
    const lastTransitionTime = prev !== undefined && prev.status === status ? prev.at : now.toISOString();
    return reason === undefined || ok ? { type, status, lastTransitionTime } : { type, status, lastTransitionTime, reason };
  };
  return {
    phase: podPhase(v),
    podIP: v.podIP,
    podIPs: v.podIP === "" ? [] : [{ ip: v.podIP }],
    hostIP: v.hostIP,
    hostIPs: [{ ip: v.hostIP }],
    startTime: v.startTime.toISOString(),
    conditions: [
      condition("PodScheduled", true),
      condition("Initialized", true),
      condition("ContainersReady", ready, "ContainersNotReady"),
      condition("Ready", ready, "ContainersNotReady"),
    ],
    containerStatuses: v.containers.map((c) => containerStatus(c)),
  };
}

function containerStatus(c: ContainerView): Record<string, unknown> {
  const base = { name: c.name, image: c.image, imageID: `signpost-local://${c.image}`, restartCount: c.restartCount };
  switch (c.state.kind) {
    case "waiting":
      return { ...base, ready: false, started: false, state: { waiting: { reason: c.state.reason, message: c.state.message } } };
    case "running":
      return { ...base, ready: c.state.ready, started: true, containerID: `signpost-local://${c.name}`, state: { running: { startedAt: c.state.startedAt.toISOString() } } };
    case "terminated":
      return {
        ...base, ready: false, started: false,
        state: { terminated: { exitCode: c.state.exitCode, reason: c.state.reason, startedAt: c.state.startedAt.toISOString(), finishedAt: c.state.finishedAt.toISOString() } },
      };
  }
}
