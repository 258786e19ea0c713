// Offline mode's input for both daemons: a cluster dump as `kubectl get nodes,namespaces,services,
// endpointslices,pods -A -o yaml` (or -o json) prints it, read into the same model structs the
// watch makes. Each daemon names the kinds it reads; an object of another kind, and one that
// fails conversion, is skipped and reported (as the informer skips it), so one bad object does
// not hide the rest of the dump.
import { readFileSync } from "node:fs";
import type { V1EndpointSlice } from "@kubernetes/client-node";
import { loadAll } from "js-yaml";
import { SignpostError } from "../errors/errors.ts";
import { convertEndpointSlice } from "../model/convert-endpointslice.ts";
import { convertNamespace } from "../model/convert-namespace.ts";
import { convertNode } from "../model/convert-node.ts";
import { convertPod } from "../model/convert-pod.ts";
import { convertService } from "../model/convert-service.ts";
import type { Pod } from "../model/pod.ts";
import type { EndpointSlice, Namespace, Node, Service } from "../model/types.ts";
import { errorFirstLine, errorMessage } from "../errors/error-message.ts";

export type ObjectKind = "Node" | "Namespace" | "Service" | "EndpointSlice" | "Pod";

const apiVersions: Readonly<Record<ObjectKind, string>> = {
  Node: "v1",
  Namespace: "v1",
  Service: "v1",
  EndpointSlice: "discovery.k8s.io/v1",
  Pod: "v1",
};

export interface SkippedObject {
  /** "items[7]": the object's place among the objects of the file, in order. */
  readonly at: string;
  /** "ConfigMap"; "(no kind)" when it has none. */
  readonly kind: string;
  /** "v1"; "" when it has none. */
  readonly apiVersion: string;
  /** "namespace/name", or the name of a cluster-scoped object. */
  readonly name: string;
  /** Why: the conversion's error, or the kinds that are read. */
  readonly reason: string;
  /** Whether the object is of a kind that is read but failed conversion. */
  readonly invalid: boolean;
}

export interface ClusterObjects {
  readonly nodes: readonly Node[];
  readonly namespaces: readonly Namespace[];
  readonly services: readonly Service[];
  readonly slices: readonly EndpointSlice[];
  readonly pods: readonly Pod[];
  readonly skipped: readonly SkippedObject[];
}

interface Typed {
  readonly apiVersion?: unknown;
  readonly kind?: unknown;
  readonly items?: unknown;
  readonly metadata?: { readonly name?: unknown; readonly namespace?: unknown };
}

export function readObjectsFile(path: string, kinds: readonly ObjectKind[]): ClusterObjects {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const reason = err instanceof Error && "code" in err && err.code === "ENOENT" ? "does not exist" : "is not readable";
    throw new SignpostError("SP_BAD_CONFIG", `--objects ${path}`, `the file ${reason}`, { cause: err });
  }
  return parseObjects(text, path, kinds);
}

/** Parses YAML (one or more documents) or JSON holding v1 Lists or single objects. */
export function parseObjects(text: string, where: string, kinds: readonly ObjectKind[]): ClusterObjects {
  let documents: unknown[];
  try {
    // JSON.parse is many times faster than the YAML parser on a large `-o json` dump.
    documents = /^\s*[{[]/.test(text) ? [JSON.parse(text) as unknown] : loadAll(text);
  } catch (err) {
    const first = errorFirstLine(err);
    throw new SignpostError("SP_BAD_CONFIG", `--objects ${where}`, `is neither YAML nor JSON: ${first}`, { cause: err });
  }
  const read = new Set(kinds);
  const notRead = `not a ${kinds.length < 2 ? kinds.join("") : `${kinds.slice(0, -1).join(", ")} or ${kinds.at(-1) ?? ""}`}`;
  const out = { nodes: [] as Node[], namespaces: [] as Namespace[], services: [] as Service[], slices: [] as EndpointSlice[], pods: [] as Pod[], skipped: [] as SkippedObject[] };
  let objects = 0;

  const convert = (kind: ObjectKind, value: object): void => {
    switch (kind) {
      case "Node":
        out.nodes.push(convertNode(value));
        break;
      case "Namespace":
        out.namespaces.push(convertNamespace(value));
        break;
      case "Service":
        out.services.push(convertService(value));
        break;
      case "EndpointSlice":
        out.slices.push(convertEndpointSlice(value as V1EndpointSlice));
        break;
      case "Pod":
        out.pods.push(convertPod(value));
        break;
    }
  };

  const visit = (value: unknown, path: string): void => {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) {
      value.forEach((item, i) => visit(item, `${path}[${i}]`));
      return;
    }
    if (typeof value !== "object") {
      const error = new SignpostError("SP_INVALID_OBJECT", `${where}: ${path}`, "is not an object");
      out.skipped.push({ at: path, kind: "(no kind)", apiVersion: "", name: "", reason: error.message, invalid: true });
      return;
    }
    const object = value as Typed;
    const kind = typeof object.kind === "string" ? object.kind : "";
    if (Array.isArray(object.items) && (kind === "" || kind.endsWith("List"))) {
      visit(object.items, `${path}.items`);
      return;
    }
    const at = `items[${objects++}]`;
    const known = read.has(kind as ObjectKind) && apiVersions[kind as ObjectKind] === object.apiVersion ? (kind as ObjectKind) : null;
    const skipped = (reason: string, invalid: boolean): SkippedObject => ({
      at,
      kind: kind === "" ? "(no kind)" : kind,
      apiVersion: typeof object.apiVersion === "string" ? object.apiVersion : "",
      name: `${typeof object.metadata?.namespace === "string" ? `${object.metadata.namespace}/` : ""}${String(object.metadata?.name)}`,
      reason,
      invalid,
    });
    if (known === null) {
      out.skipped.push(skipped(notRead, false));
      return;
    }
    try {
      convert(known, value);
    } catch (err) {
      out.skipped.push(skipped(errorMessage(err), true));
    }
  };
  documents.forEach((document, i) => visit(document, documents.length === 1 ? "" : `document ${i + 1}`));
  if (objects === 0) {
    throw new SignpostError("SP_BAD_CONFIG", `--objects ${where}`, "holds no Kubernetes object (expected a v1 List as kubectl get -o yaml prints it)");
  }
  return out;
}

/** "items[7] ConfigMap shop/unrelated: not a Node, Service or EndpointSlice". */
export function describeSkipped(s: SkippedObject): string {
  return `${s.at} ${s.kind} ${s.name}: ${s.reason}`;
}

/** The objects of kinds not read, counted by kind and apiVersion ("ConfigMap v1"). */
export function skippedKinds(skipped: readonly SkippedObject[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const s of skipped) {
    if (s.invalid) continue;
    const label = s.kind === "(no kind)" || s.apiVersion === "" ? s.kind : `${s.kind} ${s.apiVersion}`;
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  return counts;
}
