// Decodes the Kubernetes objects the daemons watch in bulk (Services, EndpointSlices) from the
// API server's protobuf encoding into the same plain objects its JSON would parse to, so the
// converters in pkg/model read either alike. Only the fields something here reads are decoded;
// the rest (managedFields, selectors' kin, conditions) is skipped unread, which is most of the
// saving. As Go's JSON encoder omits empty strings and zero numbers (omitempty), so does this
// decoder. A boolean is kept as written where Go's field is a pointer (`ready: false` means
// something), and a false one omitted where it is a plain bool, which protobuf always writes.
// Field numbers: k8s.io/api's and k8s.io/apimachinery's generated.proto.
import { MalformedProtobuf, ProtobufReader, WIRE } from "./protobuf-reader.ts";

/** What a field holds on the wire and how it reads. */
type FieldKind = "string" | "int32" | "int64" | "bool" | "plainBool" | "strings" | "map" | "time" | "intOrString" | Message | Repeated;

/** A repeated message field. */
interface Repeated {
  readonly each: Message;
}

interface Field {
  readonly name: string;
  readonly kind: FieldKind;
}

/** A message's fields by field number. */
type Message = readonly (Field | undefined)[];

function message(fields: Readonly<Record<number, readonly [string, FieldKind]>>): Message {
  const out: (Field | undefined)[] = [];
  for (const [number, [name, kind]] of Object.entries(fields)) out[Number(number)] = { name, kind };
  return out;
}

/**
 * ObjectMeta as the informer and the converters read it: identity, resourceVersion, labels and
 * annotations (the slices' trigger time, the bookmark's initial-events-end). uid, generation
 * and deletionTimestamp are read by nobody for these kinds, and a Service's creationTimestamp
 * only for Services: each skipped field is a string or a Date fewer per object, 10,000 at a time.
 */
const identityMeta = {
  1: ["name", "string"],
  3: ["namespace", "string"],
  6: ["resourceVersion", "string"],
  11: ["labels", "map"],
  12: ["annotations", "map"],
} as const satisfies Record<number, readonly [string, FieldKind]>;
const serviceMeta = message({ ...identityMeta, 8: ["creationTimestamp", "time"] });
const sliceMeta = message(identityMeta);

const servicePort = message({
  1: ["name", "string"],
  2: ["protocol", "string"],
  3: ["port", "int32"],
  4: ["targetPort", "intOrString"],
  5: ["nodePort", "int32"],
  6: ["appProtocol", "string"],
});

const serviceSpec = message({
  1: ["ports", { each: servicePort }],
  2: ["selector", "map"],
  3: ["clusterIP", "string"],
  4: ["type", "string"],
  5: ["externalIPs", "strings"],
  7: ["sessionAffinity", "string"],
  8: ["loadBalancerIP", "string"],
  9: ["loadBalancerSourceRanges", "strings"],
  10: ["externalName", "string"],
  11: ["externalTrafficPolicy", "string"],
  12: ["healthCheckNodePort", "int32"],
  13: ["publishNotReadyAddresses", "plainBool"],
  14: ["sessionAffinityConfig", message({ 1: ["clientIP", message({ 1: ["timeoutSeconds", "int32"] })] })],
  17: ["ipFamilyPolicy", "string"],
  18: ["clusterIPs", "strings"],
  19: ["ipFamilies", "strings"],
  20: ["allocateLoadBalancerNodePorts", "bool"],
  21: ["loadBalancerClass", "string"],
  22: ["internalTrafficPolicy", "string"],
  23: ["trafficDistribution", "string"],
});

const loadBalancerIngress = message({ 1: ["ip", "string"], 2: ["hostname", "string"], 3: ["ipMode", "string"] });

const service = message({
  1: ["metadata", serviceMeta],
  2: ["spec", serviceSpec],
  3: ["status", message({ 1: ["loadBalancer", message({ 1: ["ingress", { each: loadBalancerIngress }] })] })],
});

const named = message({ 1: ["name", "string"] });

/** What an endpoint is: its addresses, conditions and hostname. */
const endpointAddress = {
  1: ["addresses", "strings"],
  2: ["conditions", message({ 1: ["ready", "bool"], 2: ["serving", "bool"], 3: ["terminating", "bool"] })],
  3: ["hostname", "string"],
} as const satisfies Record<number, readonly [string, FieldKind]>;

/** Where an endpoint runs and what it is. */
const endpointPlacement = {
  // Only a Pod's name is read (pkg/model/convert-endpointslice.ts): its namespace is the slice's, its uid unread.
  4: ["targetRef", message({ 1: ["kind", "string"], 3: ["name", "string"] })],
  6: ["nodeName", "string"],
  7: ["zone", "string"],
  8: ["hints", message({ 1: ["forZones", { each: named }], 2: ["forNodes", { each: named }] })],
} as const satisfies Record<number, readonly [string, FieldKind]>;

function endpointSlice(endpoint: Message): Message {
  return message({
    1: ["metadata", sliceMeta],
    2: ["endpoints", { each: endpoint }],
    3: ["ports", { each: message({ 1: ["name", "string"], 2: ["protocol", "string"], 3: ["port", "int32"], 4: ["appProtocol", "string"] }) }],
    4: ["addressType", "string"],
  });
}

const status = message({ 2: ["status", "string"], 3: ["message", "string"], 4: ["reason", "string"], 6: ["code", "int32"] });

/** Which fields a decode reads: each kind's message, by the kind named in the envelope. */
export type DecodedFields = ReadonlyMap<string, Message>;

/** Every field the converters in pkg/model read. */
export const ALL_FIELDS: DecodedFields = new Map([
  ["Service", service],
  ["EndpointSlice", endpointSlice(message({ ...endpointAddress, ...endpointPlacement }))],
  ["Status", status],
]);

/**
 * ALL_FIELDS without an endpoint's placement (targetRef, nodeName, zone, hints), which then
 * read as unset: for a reader that keeps only what an endpoint is (signpost-dns, whose
 * projection, pkg/dns/dns-slice.ts, drops them). The EndpointSlice controller writes a Pod
 * reference and a node name into every endpoint: three strings and an object each, 100,000 at
 * a time, decoded for nothing.
 */
export const ENDPOINT_ADDRESS_FIELDS: DecodedFields = new Map([...ALL_FIELDS, ["EndpointSlice", endpointSlice(message(endpointAddress))]]);

/** The four bytes before every object the API server encodes as protobuf. */
const MAGIC = Buffer.from("k8s\0", "latin1");

const typeMeta = message({ 1: ["apiVersion", "string"], 2: ["kind", "string"] });

function wireTypeOf(kind: FieldKind): number {
  return kind === "int32" || kind === "int64" || kind === "bool" || kind === "plainBool" ? WIRE.varint : WIRE.bytes;
}

function decodeMessage(r: ProtobufReader, fields: Message, end: number): Record<string, unknown> {
  const outerEnd = r.end;
  r.end = end;
  const out: Record<string, unknown> = {};
  while (r.pos < end) {
    const tag = r.tag();
    const number = Math.floor(tag / 8);
    const wireType = tag & 7;
    const field = fields[number];
    if (field === undefined) {
      r.skip(wireType);
      continue;
    }
    if (wireType !== wireTypeOf(field.kind)) {
      throw new MalformedProtobuf(`field ${field.name} (${number}) has wire type ${wireType} at byte ${r.pos}`);
    }
    readField(r, field, out);
  }
  r.end = outerEnd;
  return out;
}

/** The length-delimited field at the reader, decoded as a message of `fields`. */
function readNested(r: ProtobufReader, fields: Message): Record<string, unknown> {
  const { start, end } = r.bytes();
  r.pos = start;
  return decodeMessage(r, fields, end);
}

function readField(r: ProtobufReader, field: Field, out: Record<string, unknown>): void {
  const { kind, name } = field;
  switch (kind) {
    case "string": {
      const value = r.string();
      if (value !== "") out[name] = value;
      return;
    }
    case "int32":
    case "int64": {
      const value = kind === "int32" ? r.int32() : r.varint();
      if (value !== 0) out[name] = value;
      return;
    }
    case "bool":
      out[name] = r.varint() !== 0;
      return;
    case "plainBool":
      if (r.varint() !== 0) out[name] = true;
      return;
    case "strings":
      appendTo(out, name, r.string());
      return;
    case "map": {
      const entry = readNested(r, mapEntry);
      const map = (out[name] ??= Object.create(null)) as Record<string, string>;
      map[typeof entry["key"] === "string" ? entry["key"] : ""] = typeof entry["value"] === "string" ? entry["value"] : "";
      return;
    }
    case "time": {
      const time = readNested(r, timeFields);
      const ms = Number(time["seconds"] ?? 0) * 1000 + Math.floor(Number(time["nanos"] ?? 0) / 1e6);
      if (ms !== 0) out[name] = new Date(ms).toISOString();
      return;
    }
    case "intOrString": {
      const value = readNested(r, intOrStringFields);
      out[name] = value["type"] === 1 ? (value["strVal"] ?? "") : (value["intVal"] ?? 0);
      return;
    }
    default:
      if ("each" in kind) appendTo(out, name, readNested(r, kind.each));
      else out[name] = readNested(r, kind);
  }
}

function appendTo(out: Record<string, unknown>, name: string, value: unknown): void {
  const list = out[name];
  if (Array.isArray(list)) list.push(value);
  else out[name] = [value];
}

/** Map entries are strings in every map these kinds hold (labels, annotations, selectors). */
const mapEntry = message({ 1: ["key", "string"], 2: ["value", "string"] });
const timeFields = message({ 1: ["seconds", "int64"], 2: ["nanos", "int32"] });
const intOrStringFields = message({ 1: ["type", "int64"], 2: ["intVal", "int32"], 3: ["strVal", "string"] });

/**
 * One object as the API server encodes it ("k8s\0", then a runtime.Unknown holding its
 * apiVersion, kind and message), decoded into its JSON shape, apiVersion and kind included.
 */
export function decodeObject(buf: Buffer, start = 0, end = buf.length, decoded: DecodedFields = ALL_FIELDS): Record<string, unknown> {
  if (end - start < MAGIC.length || buf.compare(MAGIC, 0, MAGIC.length, start, start + MAGIC.length) !== 0) {
    throw new MalformedProtobuf("the object does not start with the k8s protobuf prefix");
  }
  const r = new ProtobufReader(buf, start + MAGIC.length, end);
  let type: Record<string, unknown> = {};
  let raw: { start: number; end: number } | null = null;
  while (!r.done) {
    const tag = r.tag();
    const wireType = tag & 7;
    if (tag === (1 << 3) + WIRE.bytes) type = readNested(r, typeMeta);
    else if (tag === (2 << 3) + WIRE.bytes) raw = r.bytes();
    else r.skip(wireType);
  }
  const kind = typeof type["kind"] === "string" ? type["kind"] : "";
  const fields = decoded.get(kind);
  if (fields === undefined) throw new MalformedProtobuf(`kind ${JSON.stringify(kind)} is not one this decoder reads`);
  if (raw === null) throw new MalformedProtobuf(`the ${kind} has no body`);
  r.pos = raw.start;
  return { apiVersion: type["apiVersion"], kind, ...decodeMessage(r, fields, raw.end) };
}

/** One frame of a protobuf watch: a metav1.WatchEvent, its object as decodeObject reads it. */
export function decodeWatchEvent(buf: Buffer, start = 0, end = buf.length, decoded: DecodedFields = ALL_FIELDS): { type: string; object: Record<string, unknown> } {
  const r = new ProtobufReader(buf, start, end);
  let type = "";
  let raw: { start: number; end: number } | null = null;
  while (!r.done) {
    const tag = r.tag();
    if (tag === (1 << 3) + WIRE.bytes) type = r.string();
    else if (tag === (2 << 3) + WIRE.bytes) {
      // RawExtension { bytes raw = 1 }
      const extension = r.bytes();
      const inner = new ProtobufReader(buf, extension.start, extension.end);
      while (!inner.done) {
        const innerTag = inner.tag();
        if (innerTag === (1 << 3) + WIRE.bytes) raw = inner.bytes();
        else inner.skip(innerTag & 7);
      }
    } else r.skip(tag & 7);
  }
  if (type === "") throw new MalformedProtobuf("the watch event has no type");
  if (raw === null) throw new MalformedProtobuf(`the ${type} event has no object`);
  return { type, object: decodeObject(buf, raw.start, raw.end, decoded) };
}
