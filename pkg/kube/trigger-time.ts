// Where programming latency starts, for both daemons: the EndpointSlice controller writes the
// time of the Pod or Service change that caused a slice's update into its
// endpoints.kubernetes.io/last-change-trigger-time annotation (RFC 3339 with nanoseconds), and
// kube-proxy's network_programming_duration_seconds measures from it. pkg/model drops
// annotations, so the informers read it here, beside the conversion.
import type { RawObject } from "./object-store.ts";

export const triggerTimeAnnotation = "endpoints.kubernetes.io/last-change-trigger-time";

/** The annotation as milliseconds since the epoch; null when absent or malformed. */
export function lastChangeTriggerTimeMs(raw: RawObject): number | null {
  const { metadata } = raw as { metadata?: { annotations?: Readonly<Record<string, string>> } };
  const text = metadata?.annotations?.[triggerTimeAnnotation];
  const ms = text === undefined ? Number.NaN : Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

/** kube-proxy's buckets for network programming latency, in seconds: 0.25 s to 10 min. */
export const PROGRAMMING_LATENCY_BUCKETS: readonly number[] = [
  0.25, 0.5,
  ...Array.from({ length: 59 }, (_, i) => i + 1),
  ...Array.from({ length: 12 }, (_, i) => 60 + 5 * i),
  ...Array.from({ length: 10 }, (_, i) => 300 + 30 * i),
];
