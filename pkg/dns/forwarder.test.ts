// The forwarder against upstreams on 127.0.0.1 that the tests start: a signpost-dns server
// authoritative for upstream.test, and small dgram responders that count, stay silent or lie.
import { execFile } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { promisify } from "node:util";
import { Packet } from "dns2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ForwardMetrics } from "./forward-metrics.ts";
import { createForwarder, upstreamLabel } from "./forwarder.ts";
import { TYPE } from "./records.ts";
import { RecordStore } from "./record-store.ts";
import { createDnsServer, type DnsServer } from "./server.ts";
import { forwardRequest, queryBytes, render } from "./testing/messages.ts";
import { clusterStore, endpoint, service, slice } from "./testing/objects.ts";
import { hasDig } from "./testing/dig.ts";
import { underTestScript } from "../../test/support/under-test-script.ts";

const request = (name: string, qtype: number = TYPE.A) => forwardRequest(name, { qtype });

/**
 * "forged-first": two answers that are not the answer (another ID, another type) before the
 * answer; "stranger-first": the answer with a forged address, from another port, before it.
 */
type Behaviour = "answer" | "silent" | "other-question" | "forged-first" | "stranger-first";

interface FakeUpstream {
  readonly port: number;
  queries(): number;
  /** Each query as received, with the source port it came from. */
  readonly received: { readonly message: Buffer; readonly port: number }[];
  close(): void;
}

/** A loopback responder; `queries` counts what reached it. */
async function fakeUpstream(behaviour: Behaviour): Promise<FakeUpstream> {
  const socket: Socket = createSocket("udp4");
  const stranger: Socket = createSocket("udp4");
  const received: { message: Buffer; port: number }[] = [];
  socket.on("message", (message, rinfo) => {
    received.push({ message, port: rinfo.port });
    if (behaviour === "silent") return;
    const query = Packet.parse(message);
    const answer = (name: string, type: number, id: number, from = socket, address = "192.0.2.1", then?: () => void) => {
      const response = Packet.createResponseFromRequest(query);
      response.header.id = id;
      response.header.ra = 1;
      response.questions = [new Packet.Question(name, type, 1)];
      response.answers.push(new Packet.Resource({ name, type: TYPE.A, class: 1, ttl: 60, address }));
      from.send(response.toBuffer(), rinfo.port, rinfo.address, then);
    };
    const asked = query.questions[0];
    const name = behaviour === "other-question" ? "evil.example" : (asked?.name ?? "");
    if (behaviour === "forged-first") {
      answer(name, asked?.type ?? TYPE.A, (query.header.id + 1) & 0xffff);
      answer(name, (asked?.type ?? TYPE.A) ^ 0x20, query.header.id);
    }
    if (behaviour === "stranger-first") {
      // The genuine answer leaves only once the stranger's has.
      answer(name, asked?.type ?? TYPE.A, query.header.id, stranger, "203.0.113.66", () => answer(name, asked?.type ?? TYPE.A, query.header.id));
      return;
    }
    answer(name, asked?.type ?? TYPE.A, query.header.id);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const close = () => {
    socket.close();
    stranger.close();
  };
  return { port: socket.address().port, queries: () => received.length, received, close };
}

describe("forwarder", () => {
  let authority: DnsServer;
  beforeAll(async () => {
    const store = new RecordStore({ zone: "upstream.test" });
    store.upsertService(service({ name: "nginx", clusterIPs: ["10.96.0.10"] }));
    store.upsertService(service({ name: "big", headless: true }));
    const endpoints = Array.from({ length: 200 }, (_, i) => endpoint(`10.2.${i >> 8}.${i & 0xff}`));
    store.upsertEndpointSlice(slice({ name: "big-1", serviceName: "big", endpoints }));
    store.markSynced();
    authority = await createDnsServer({ store, port: 0, address: "127.0.0.1" });
  });
  afterAll(async () => {
    await authority.close();
  });

  it("counts each exchange under CoreDNS's forward metrics, a silent upstream's too", async () => {
    const silent = await fakeUpstream("silent");
    const to = [{ address: "127.0.0.1", port: silent.port }, { address: "127.0.0.1", port: authority.port }];
    const metrics = new ForwardMetrics(to.map(upstreamLabel));
    const forwarder = createForwarder({ upstreams: to, metrics, timeoutMs: 100, cache: null });
    await forwarder.forward(request("nginx.default.svc.upstream.test"));
    await forwarder.forward(request("missing.default.svc.upstream.test"));
    silent.close();
    const text = metrics.exposition();
    const [a = "", b = ""] = to.map(upstreamLabel);
    expect(text).toContain(`coredns_forward_requests_total{to="${a}"} 2\n`);
    expect(text).toContain(`coredns_forward_requests_total{to="${b}"} 2\n`);
    expect(text).not.toContain(`coredns_forward_responses_total{to="${a}"`);
    expect(text).toContain(`coredns_forward_responses_total{to="${b}",rcode="NOERROR"} 1\n`);
    expect(text).toContain(`coredns_forward_responses_total{to="${b}",rcode="NXDOMAIN"} 1\n`);
    expect(text).toContain(`coredns_forward_request_duration_seconds_count{to="${b}",rcode="NXDOMAIN"} 1\n`);
    expect(text).toMatch(new RegExp(`coredns_forward_request_duration_seconds_bucket\\{to="${b.replaceAll(".", "\\.")}",rcode="NOERROR",le="\\+Inf"\\} 1\n`));
    expect(upstreamLabel({ address: "fd00::10", port: 53 })).toBe("[fd00::10]:53");
  });

  it("asks the upstream and hands back its answer", async () => {
    const forwarder = createForwarder({ upstreams: [{ address: "127.0.0.1", port: authority.port }] });
    const response = await forwarder.forward(request("NGINX.default.svc.upstream.test"));
    expect(render(response).answer).toEqual(["NGINX.default.svc.upstream.test A 10.96.0.10"]);
    await forwarder.close();
  });

  it("asks again over TCP when the UDP answer is truncated", async () => {
    const forwarder = createForwarder({ upstreams: [{ address: "127.0.0.1", port: authority.port }] });
    const response = await forwarder.forward(request("big.default.svc.upstream.test"));
    expect(render(response)).toMatchObject({ flags: "qr aa rd" });
    expect(render(response).answer).toHaveLength(200);
    await forwarder.close();
  });

  it("answers a repeated question from its cache, and asks every time without one", async () => {
    const upstream = await fakeUpstream("answer");
    const cached = createForwarder({ upstreams: [{ address: "127.0.0.1", port: upstream.port }] });
    await cached.forward(request("example.org"));
    // A hit is answered in the same turn of the loop: no promise to wait for.
    const again = cached.forward(request("Example.org"));
    if (again instanceof Promise) expect.fail("a cache hit came back as a promise");
    expect(upstream.queries()).toBe(1);
    expect(render(again).answer).toEqual(["example.org A 192.0.2.1"]);
    expect(cached.cache?.hits).toBe(1);
    const uncached = createForwarder({ upstreams: [{ address: "127.0.0.1", port: upstream.port }], cache: null });
    await uncached.forward(request("example.org"));
    await uncached.forward(request("example.org"));
    expect(upstream.queries()).toBe(3);
    await Promise.all([cached.close(), uncached.close()]);
    upstream.close();
  });

  it("sends one upstream query for identical questions in flight", async () => {
    const upstream = await fakeUpstream("answer");
    const forwarder = createForwarder({ upstreams: [{ address: "127.0.0.1", port: upstream.port }], cache: null });
    const answers = await Promise.all(Array.from({ length: 5 }, () => Promise.resolve(forwarder.forward(request("example.org")))));
    expect(answers).toHaveLength(5);
    expect(upstream.queries()).toBe(1);
    await forwarder.close();
    upstream.close();
  });

  it("moves to the next upstream when one stays silent", async () => {
    const silent = await fakeUpstream("silent");
    const good = await fakeUpstream("answer");
    const forwarder = createForwarder({
      upstreams: [
        { address: "127.0.0.1", port: silent.port },
        { address: "127.0.0.1", port: good.port },
      ],
      timeoutMs: 200,
    });
    expect(render(await forwarder.forward(request("example.org"))).answer).toEqual(["example.org A 192.0.2.1"]);
    expect([silent.queries(), good.queries()]).toEqual([1, 1]);
    await forwarder.close();
    silent.close();
    good.close();
  });

  it("fails when no upstream answers the question asked", async () => {
    const silent = await fakeUpstream("silent");
    const liar = await fakeUpstream("other-question");
    const forwarder = createForwarder({
      upstreams: [
        { address: "127.0.0.1", port: silent.port },
        { address: "127.0.0.1", port: liar.port },
      ],
      timeoutMs: 200,
    });
    await expect(forwarder.forward(request("example.org"))).rejects.toThrow(/timed out/);
    await forwarder.close();
    silent.close();
    liar.close();
  });

  it("sends each query from a socket of its own, on a random port", async () => {
    const upstream = await fakeUpstream("answer");
    const forwarder = createForwarder({ upstreams: [{ address: "127.0.0.1", port: upstream.port }], cache: null });
    for (let i = 0; i < 20; i++) await forwarder.forward(request(`n${i}.example.org`));
    const ports = new Set(upstream.received.map((r) => r.port));
    // 20 draws from some 28,000 ephemeral ports: a repeat or two at most, by chance.
    expect(ports.size).toBeGreaterThanOrEqual(18);
    await forwarder.close();
    upstream.close();
  });

  it("drops and counts datagrams that are not the answer, then takes the answer", async () => {
    const upstream = await fakeUpstream("forged-first");
    const to = [{ address: "127.0.0.1", port: upstream.port }];
    const metrics = new ForwardMetrics(to.map(upstreamLabel));
    const forwarder = createForwarder({ upstreams: to, metrics, cache: null });
    const response = await forwarder.forward(request("example.org"));
    expect(render(response)).toMatchObject({ question: "example.org A", answer: ["example.org A 192.0.2.1"] });
    expect(metrics.exposition()).toContain(`signpost_dns_forward_dropped_responses_total{to="${upstreamLabel(to[0] ?? { address: "", port: 0 })}",reason="mismatch"} 2\n`);
    await forwarder.close();
    upstream.close();
  });

  it("takes no answer from another port, even one with the right ID and question", async () => {
    const upstream = await fakeUpstream("stranger-first");
    const forwarder = createForwarder({ upstreams: [{ address: "127.0.0.1", port: upstream.port }], cache: null });
    expect(render(await forwarder.forward(request("example.org"))).answer).toEqual(["example.org A 192.0.2.1"]);
    await forwarder.close();
    upstream.close();
  });

  it("passes the client's DO and CD bits upstream", async () => {
    const upstream = await fakeUpstream("answer");
    const forwarder = createForwarder({ upstreams: [{ address: "127.0.0.1", port: upstream.port }], cache: null });
    const message = queryBytes("signed.example.org", TYPE.A, { udpSize: 4096 });
    message[3] = 0x10; // CD
    message.writeUInt16BE(0x8000, message.length - 4); // DO, in the OPT record's TTL
    await forwarder.forward({ message, question: message.subarray(12, message.length - 11), name: "signed.example.org", qtype: TYPE.A, qclass: 1, dnssecOk: true, cd: true });
    await forwarder.forward(request("plain.example.org"));
    // dns2 does not read CD: it is bit 0x10 of the fourth byte.
    const [signed, plain] = upstream.received.map((r) => ({ cd: (r.message[3] ?? 0) & 0x10, opt: Packet.parse(r.message).additionals[0] }));
    expect([signed?.cd, signed?.opt?.ttl]).toEqual([0x10, 0x8000]);
    expect([plain?.cd, plain?.opt?.ttl]).toEqual([0, 0]);
    await forwarder.close();
    upstream.close();
  });

  it("forwards nothing more to an upstream it was told loops, and fails when none is left", async () => {
    const first = await fakeUpstream("answer");
    const second = await fakeUpstream("answer");
    const forwarder = createForwarder({
      upstreams: [
        { address: "127.0.0.1", port: first.port },
        { address: "127.0.0.1", port: second.port },
      ],
      cache: null,
    });
    forwarder.stopForwardingTo(0);
    await forwarder.forward(request("a.example.org"));
    expect([first.queries(), second.queries()]).toEqual([0, 1]);
    forwarder.stopForwardingTo(1);
    await expect(forwarder.forward(request("b.example.org"))).rejects.toThrow(/forwarding loop/);
    expect(render(await forwarder.askUpstream(0, request("probe.example.org").question)).answer).toEqual(["probe.example.org A 192.0.2.1"]);
    await forwarder.close();
    first.close();
    second.close();
  });

  it("fails at once past its limit of queries in flight, and ends them all on close", async () => {
    const silent = await fakeUpstream("silent");
    const forwarder = createForwarder({ upstreams: [{ address: "127.0.0.1", port: silent.port }], cache: null, maxInFlight: 1, timeoutMs: 60_000 });
    const first = forwarder.forward(request("a.example.org"));
    await expect(forwarder.forward(request("b.example.org"))).rejects.toThrow(/too many queries in flight/);
    await forwarder.close();
    await expect(first).rejects.toThrow(/closed/);
    silent.close();
  });

  it("needs an upstream", () => {
    expect(() => createForwarder({ upstreams: [] })).toThrow(/upstream/);
  });
});

// Skipped only by a developer's vitest on a machine without dig; under ./hack/test.sh it always
// runs (setup installs dnsutils), and fails if dig is gone.
describe.skipIf(!hasDig() && !underTestScript)("DNS server forwarding to a loopback upstream, asked by dig", () => {
  const run = promisify(execFile);
  let authority: DnsServer;
  let server: DnsServer;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const store = new RecordStore({ zone: "upstream.test" });
    store.upsertService(service({ name: "nginx", clusterIPs: ["10.96.0.10"] }));
    store.upsertService(service({ name: "big", headless: true }));
    const endpoints = Array.from({ length: 100 }, (_, i) => endpoint(`10.3.0.${i + 1}`));
    store.upsertEndpointSlice(slice({ name: "big-1", serviceName: "big", endpoints }));
    store.markSynced();
    authority = await createDnsServer({ store, port: 0, address: "127.0.0.1" });
    const forwarder = createForwarder({ upstreams: [{ address: "127.0.0.1", port: authority.port }] });
    close = () => forwarder.close();
    server = await createDnsServer({ store: clusterStore(), port: 0, address: "127.0.0.1", forward: forwarder.forward });
  });
  afterAll(async () => {
    await server.close();
    await close();
    await authority.close();
  });

  const dig = async (...args: string[]) =>
    (await run("dig", ["@127.0.0.1", "-p", String(server.port), "+time=2", "+tries=1", ...args])).stdout;

  it("resolves an out-of-zone name through the upstream, with the client's case", async () => {
    const out = await dig("NGINX.default.svc.upstream.test", "A");
    expect(out).toContain("status: NOERROR");
    expect(out).toMatch(/NGINX\.default\.svc\.upstream\.test\.\s+\d+\s+IN\s+A\s+10\.96\.0\.10/);
    expect(out).toMatch(/flags: qr aa rd ra;/);
  });

  it("passes an upstream NXDOMAIN on, with its SOA", async () => {
    const out = await dig("nope.default.svc.upstream.test", "A");
    expect(out).toContain("status: NXDOMAIN");
    expect(out).toMatch(/upstream\.test\.\s+\d+\s+IN\s+SOA/);
  });

  it("truncates a big upstream answer for a UDP client without EDNS, and sends it whole over TCP", async () => {
    expect(await dig("+notcp", "+ignore", "+noedns", "big.default.svc.upstream.test", "A")).toMatch(/flags: qr aa tc rd ra;/);
    expect(await dig("+tcp", "big.default.svc.upstream.test", "A")).toContain("ANSWER: 100");
  });
});
