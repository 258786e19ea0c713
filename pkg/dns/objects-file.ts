// Offline mode's input: a cluster dump as `kubectl get namespaces,services,endpointslices,pods
// -A -o yaml` (or -o json) prints it, read into the same model structs the watch layer makes.
// Objects of other kinds are counted and skipped; an object that fails conversion is reported
// and skipped, as the informer does, so one bad object does not hide the rest of the dump.
import { readFileSync } from "node:fs";
import type { V1EndpointSlice } from "@kubernetes/client-node";
import { loadAll } from "js-yaml";
import { SignpostError } from "../errors/errors.ts";
import { convertEndpointSlice } from "../model/convert-endpointslice.ts";
import { convertNamespace } from "../model/convert-namespace.ts";
import { convertPod } from "../model/convert-pod.ts";
import { convertService } from "../model/convert-service.ts";
import type { Pod } from "../model/pod.ts";
import type { Namespace, Service } from "../model/types.ts";
import { dnsSlice, type DnsEndpointSlice } from "./dns-slice.ts";
import type { ClusterObjects } from "./store-sync.ts";

export interface LoadedObjects extends ClusterObjects {
  readonly pods: readonly Pod[];
  /** Objects of kinds the DNS does not serve (ConfigMaps, Deployments...), by kind. */
  readonly skippedKinds: ReadonlyMap<string, number>;
  /** Objects that failed conversion, with the reason. */
  readonly invalid: readonly Error[];
}

interface Typed {
  readonly apiVersion?: unknown;
  readonly kind?: unknown;
  readonly items?: unknown;
}

export function readObjectsFile(path: string): LoadedObjects {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const reason = err instanceof Error && "code" in err && err.code === "ENOENT" ? "does not exist" : "is not readable";
    throw new SignpostError("SP_BAD_CONFIG", `--objects ${path}`, `the file ${reason}`, { cause: err });
  }
  return parseObjects(text, path);
}

/** Parses YAML (one or more documents) or JSON holding v1 Lists or single objects. */
export function parseObjects(text: string, where: string): LoadedObjects {
  let documents: unknown[];
  try {
    // JSON.parse is many times faster than the YAML parser on a large `-o json` dump.
    documents = /^\s*[{[]/.test(text) ? [JSON.parse(text) as unknown] : loadAll(text);
  } catch (err) {
    const first = err instanceof Error ? (err.message.split("\n")[0] ?? "") : String(err);
    throw new SignpostError("SP_BAD_CONFIG", `--objects ${where}`, `is neither YAML nor JSON: ${first}`, { cause: err });
  }
  const namespaces: Namespace[] = [];
  const services: Service[] = [];
  const endpointSlices: DnsEndpointSlice[] = [];
  const pods: Pod[] = [];
  const skippedKinds = new Map<string, number>();
  const invalid: Error[] = [];
  let objects = 0;

  const visit = (value: unknown, path: string): void => {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) {
      value.forEach((item, i) => visit(item, `${path}[${i}]`));
      return;
    }
    if (typeof value !== "object") {
      invalid.push(new SignpostError("SP_INVALID_OBJECT", `${where}: ${path}`, "is not an object"));
      return;
    }
    const object = value as Typed;
    const kind = typeof object.kind === "string" ? object.kind : "";
    if (Array.isArray(object.items) && (kind === "" || kind.endsWith("List"))) {
      visit(object.items, `${path}.items`);
      return;
    }
    objects++;
    try {
      if (kind === "Namespace" && object.apiVersion === "v1") namespaces.push(convertNamespace(value));
      else if (kind === "Service" && object.apiVersion === "v1") services.push(convertService(value));
      else if (kind === "EndpointSlice" && object.apiVersion === "discovery.k8s.io/v1") {
        endpointSlices.push(dnsSlice(convertEndpointSlice(value as V1EndpointSlice)));
      } else if (kind === "Pod" && object.apiVersion === "v1") {
        pods.push(convertPod(value));
      } else {
        const label = kind === "" ? "(no kind)" : `${kind} ${String(object.apiVersion)}`;
        skippedKinds.set(label, (skippedKinds.get(label) ?? 0) + 1);
      }
    } catch (err) {
      invalid.push(err instanceof Error ? err : new Error(String(err)));
    }
  };
  documents.forEach((document, i) => visit(document, documents.length === 1 ? "" : `document ${i + 1}`));
  if (objects === 0) {
    throw new SignpostError("SP_BAD_CONFIG", `--objects ${where}`, "holds no Kubernetes object (expected a v1 List as kubectl get -o yaml prints it)");
  }
  return { namespaces, services, endpointSlices, pods, skippedKinds, invalid };
}
