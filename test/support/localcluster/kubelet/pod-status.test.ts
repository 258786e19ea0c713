import { describe, expect, it } from "vitest";
import { buildPodStatus, podPhase, type PodView } from "./pod-status.ts";

const t0 = new Date("2026-11-28T10:00:00Z");
const t1 = new Date("2026-11-28T10:00:05Z");

function view(states: PodView["containers"][number]["state"][], restartPolicy = "Always"): PodView {
  return {
    podIP: "10.244.1.5", hostIP: "172.30.0.11", startTime: t0, restartPolicy,
    containers: states.map((state, i) => ({ name: `c${i}`, image: "nginx", state, restartCount: 0 })),
  };
}

describe("pod status", () => {
  it("is Running and Ready when every container runs and is ready", () => {
    const s = buildPodStatus(view([{ kind: "running", startedAt: t0, ready: true }]), t1);
    expect(s.phase).toBe("Running");
    expect(s.conditions.find((c) => c.type === "Ready")?.status).toBe("True");
    expect(s.podIPs).toEqual([{ ip: "10.244.1.5" }]);
  });

  it("is Running but not Ready while a readiness probe has not passed", () => {
    const s = buildPodStatus(view([{ kind: "running", startedAt: t0, ready: true }, { kind: "running", startedAt: t0, ready: false }]), t1);
    expect(s.conditions.find((c) => c.type === "Ready")).toMatchObject({ status: "False", reason: "ContainersNotReady" });
  });

  it("reports an image with no mapping as ErrImagePull and stays Pending", () => {
    const s = buildPodStatus(view([{ kind: "waiting", reason: "ErrImagePull", message: "no mapping" }]), t1);
    expect(s.phase).toBe("Pending");
    expect(s.containerStatuses[0]).toMatchObject({ state: { waiting: { reason: "ErrImagePull", message: "no mapping" } } });
  });

  it("keeps a condition's transition time while its status holds", () => {
    const prev = new Map([["Ready", { status: "True", at: t0.toISOString() }]]);
    const s = buildPodStatus(view([{ kind: "running", startedAt: t0, ready: true }]), t1, prev);
    expect(s.conditions.find((c) => c.type === "Ready")?.lastTransitionTime).toBe(t0.toISOString());
  });

  it("finishes as Succeeded or Failed when nothing restarts", () => {
    const done = { kind: "terminated", exitCode: 0, reason: "Completed", startedAt: t0, finishedAt: t1 } as const;
    const failed = { ...done, exitCode: 1, reason: "Error" };
    expect(podPhase(view([done], "Never"))).toBe("Succeeded");
    expect(podPhase(view([done, failed], "OnFailure"))).toBe("Failed");
  });
});
