// Port numbers and protocols, shared by Service and EndpointSlice ports. The protocol returned
// is one of our own string constants, never the API object's string.
import type { Protocol } from "./types.ts";

const protocols: ReadonlyMap<string, Protocol> = new Map([
  ["TCP", "TCP"],
  ["UDP", "UDP"],
  ["SCTP", "SCTP"],
]);

/** The protocol named by `value`, TCP when unset (the API default), null when unknown. */
export function protocolOf(value: string | undefined): Protocol | null {
  if (value === undefined || value === null) return "TCP";
  return protocols.get(value) ?? null;
}

export function isPortNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 65535;
}

/** For messages: a value as the user wrote it, strings quoted. */
export function shown(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}
