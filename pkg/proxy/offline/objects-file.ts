// Reads what `kubectl get nodes,services,endpointslices -A -o yaml` (or -o json) prints: a v1
// List. Items are converted with pkg/model's converters, exactly as the watch converts them;
// an item of another kind is skipped, and one that fails conversion is reported and skipped,
// as the daemon would skip it.
import { readFileSync } from "node:fs";
import { loadAll } from "js-yaml";
import type { V1EndpointSlice, V1Node, V1Service } from "@kubernetes/client-node";
import { SignpostError } from "../../errors/errors.ts";
import { convertEndpointSlice } from "../../model/convert-endpointslice.ts";
import { convertNode } from "../../model/convert-node.ts";
import { convertService } from "../../model/convert-service.ts";
import type { EndpointSlice, Node, Service } from "../../model/types.ts";

export interface ClusterObjects {
  readonly nodes: readonly Node[];
  readonly services: readonly Service[];
  readonly slices: readonly EndpointSlice[];
  /** One line per item that was skipped, saying why. */
  readonly skipped: readonly string[];
}

interface RawItem {
  readonly kind?: unknown;
  readonly items?: unknown;
  readonly metadata?: { readonly name?: unknown; readonly namespace?: unknown };
}

function documents(text: string, where: string): unknown[] {
  try {
    // JSON is YAML; loadAll also takes a stream of documents.
    return loadAll(text);
  } catch (err) {
    throw new SignpostError("SP_BAD_CONFIG", where, `not YAML or JSON: ${err instanceof Error ? (err.message.split("\n")[0] ?? "") : String(err)}`, { cause: err });
  }
}

function flatten(doc: unknown, out: RawItem[]): void {
  if (doc === null || typeof doc !== "object") return;
  const item = doc as RawItem;
  if (typeof item.kind === "string" && item.kind.endsWith("List") && Array.isArray(item.items)) {
    for (const inner of item.items) flatten(inner, out);
    return;
  }
  out.push(item);
}

export function parseClusterObjects(text: string, where: string): ClusterObjects {
  const items: RawItem[] = [];
  for (const doc of documents(text, where)) flatten(doc, items);
  const nodes: Node[] = [];
  const services: Service[] = [];
  const slices: EndpointSlice[] = [];
  const skipped: string[] = [];
  items.forEach((item, i) => {
    const name = `${String(item.kind)} ${typeof item.metadata?.namespace === "string" ? `${item.metadata.namespace}/` : ""}${String(item.metadata?.name)}`;
    try {
      switch (item.kind) {
        case "Node":
          nodes.push(convertNode(item as V1Node));
          break;
        case "Service":
          services.push(convertService(item as V1Service));
          break;
        case "EndpointSlice":
          slices.push(convertEndpointSlice(item as V1EndpointSlice));
          break;
        default:
          skipped.push(`items[${i}] ${name}: not a Node, Service or EndpointSlice`);
      }
    } catch (err) {
      skipped.push(`items[${i}] ${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  return { nodes, services, slices, skipped };
}

export function readClusterObjects(path: string): ClusterObjects {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new SignpostError("SP_BAD_FLAG", "--objects", `${path} cannot be read`, { cause: err });
  }
  return parseClusterObjects(text, path);
}
