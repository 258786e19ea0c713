// Reads an object's identity from its metadata and builds the SP_INVALID_OBJECT errors that
// name it, e.g. `Service default/web: spec.ports[1].port: 70000 is outside 1..65535`.
import type { V1ObjectMeta } from "@kubernetes/client-node";
import { SignpostError } from "../errors/errors.ts";

export interface Identity {
  /** "" for cluster-scoped kinds. */
  readonly namespace: string;
  readonly name: string;
  /** "Service default/web" or "Node node-a": how errors name the object. */
  readonly subject: string;
}

export function invalidObject(subject: string, path: string, message: string): SignpostError {
  return new SignpostError("SP_INVALID_OBJECT", `${subject}: ${path}`, message);
}

export function namespacedIdentity(kind: string, metadata: V1ObjectMeta | undefined): Identity {
  const namespace = metadata?.namespace ?? "";
  const name = metadata?.name ?? "";
  const subject = `${kind} ${namespace || "<no namespace>"}/${name || "<no name>"}`;
  if (metadata === undefined || metadata === null) throw invalidObject(subject, "metadata", "is missing");
  if (typeof name !== "string" || name === "") throw invalidObject(subject, "metadata.name", "is missing or empty");
  if (typeof namespace !== "string" || namespace === "") {
    throw invalidObject(subject, "metadata.namespace", "is missing or empty");
  }
  return { namespace, name, subject };
}

export function clusterIdentity(kind: string, metadata: V1ObjectMeta | undefined): Identity {
  const name = metadata?.name ?? "";
  const subject = `${kind} ${name || "<no name>"}`;
  if (metadata === undefined || metadata === null) throw invalidObject(subject, "metadata", "is missing");
  if (typeof name !== "string" || name === "") throw invalidObject(subject, "metadata.name", "is missing or empty");
  return { namespace: "", name, subject };
}
