import { describe, expect, it } from "vitest";
import { AnswerCache } from "./answer-cache.ts";
import { ForwardCache } from "./forward-cache.ts";
import { QueryMetrics, rcodeOf, TcpMetrics } from "./metrics.ts";
import { createQueryHandler, type QueryHandler } from "./query-handler.ts";
import { TYPE } from "./records.ts";
import { queryBytes, responseWith } from "./testing/messages.ts";
import { clusterStore } from "./testing/objects.ts";

describe("QueryMetrics", () => {
  it("counts requests by protocol and type, responses by rcode, and durations, under CoreDNS's names", async () => {
    let clock = 0;
    const metrics = new QueryMetrics({ server: () => "dns://:53", family: "1", now: () => clock });
    const answers = new Map<string, number>([["udp", 0], ["tcp", 3]]);
    const handler: QueryHandler = (_message, transport) => {
      clock += transport === "udp" ? 0.1 : 3;
      return transport === "udp" ? responseWith(answers.get("udp") ?? 0) : Promise.resolve(responseWith(3));
    };
    const instrumented = metrics.instrument(handler);
    await instrumented(queryBytes("a.example", TYPE.A), "udp");
    await instrumented(queryBytes("b.example", TYPE.A), "udp");
    await instrumented(queryBytes("c.example", TYPE.SRV), "tcp");
    await instrumented(queryBytes("d.example", 99), "udp");
    metrics.record(Buffer.from([1, 2, 3]), "udp", null, clock);
    const text = metrics.exposition();
    const server = 'server="dns://:53",zone="."';
    expect(text).toContain(`coredns_dns_requests_total{${server},view="",proto="udp",family="1",type="A"} 2\n`);
    expect(text).toContain(`coredns_dns_requests_total{${server},view="",proto="tcp",family="1",type="SRV"} 1\n`);
    expect(text).toContain(`coredns_dns_requests_total{${server},view="",proto="udp",family="1",type="other"} 2\n`);
    expect(text).toContain(`coredns_dns_responses_total{${server},view="",rcode="NOERROR",plugin=""} 3\n`);
    expect(text).toContain(`coredns_dns_responses_total{${server},view="",rcode="NXDOMAIN",plugin=""} 1\n`);
    expect(text).toContain(`coredns_dns_request_duration_seconds_bucket{${server},view="",type="A",le="0.00025"} 2\n`);
    expect(text).toContain(`coredns_dns_request_duration_seconds_bucket{${server},view="",type="SRV",le="0.002"} 0\n`);
    expect(text).toContain(`coredns_dns_request_duration_seconds_bucket{${server},view="",type="SRV",le="0.004"} 1\n`);
    expect(text).toContain(`coredns_dns_request_duration_seconds_bucket{${server},view="",type="SRV",le="+Inf"} 1\n`);
    expect(text).toContain(`coredns_dns_request_duration_seconds_count{${server},view="",type="A"} 2\n`);
    expect(text).toMatch(/# TYPE coredns_dns_request_duration_seconds histogram\n/);
    expect(text).not.toContain("coredns_cache_hits_total");
  });

  it("counts BADVERS by the OPT record's extended rcode, not as the header's NOERROR", async () => {
    const metrics = new QueryMetrics({ server: () => "dns://:53", family: "1" });
    const handle = metrics.instrument(createQueryHandler({ store: clusterStore() }));
    await handle(queryBytes("nginx.default.svc.cluster.local", TYPE.A, { udpSize: 1232, ednsVersion: 1 }), "udp");
    await handle(queryBytes("nginx.default.svc.cluster.local", TYPE.A, { udpSize: 1232 }), "udp");
    const text = metrics.exposition();
    expect(text).toContain('coredns_dns_responses_total{server="dns://:53",zone=".",view="",rcode="BADVERS",plugin=""} 1\n');
    expect(text).toContain('coredns_dns_responses_total{server="dns://:53",zone=".",view="",rcode="NOERROR",plugin=""} 1\n');
    expect(rcodeOf(responseWith(3))).toBe(3);
  });

  it("observes request and response sizes by protocol in CoreDNS's size buckets", async () => {
    const metrics = new QueryMetrics({ server: () => "dns://:53", family: "1" });
    const handler: QueryHandler = (message) => (message.length > 40 ? Buffer.alloc(600) : null);
    const instrumented = metrics.instrument(handler);
    await instrumented(Buffer.alloc(30), "udp");
    await instrumented(Buffer.alloc(50), "tcp");
    const text = metrics.exposition();
    const udp = 'server="dns://:53",zone=".",view="",proto="udp"';
    const tcp = 'server="dns://:53",zone=".",view="",proto="tcp"';
    expect(text).toMatch(/# TYPE coredns_dns_request_size_bytes histogram\n/);
    expect(text).toContain(`coredns_dns_request_size_bytes_bucket{${udp},le="0"} 0\n`);
    expect(text).toContain(`coredns_dns_request_size_bytes_bucket{${udp},le="100"} 1\n`);
    expect(text).toContain(`coredns_dns_request_size_bytes_sum{${udp}} 30\n`);
    expect(text).toContain(`coredns_dns_request_size_bytes_count{${tcp}} 1\n`);
    expect(text).not.toContain(`coredns_dns_response_size_bytes_count{${udp}}`);
    expect(text).toContain(`coredns_dns_response_size_bytes_bucket{${tcp},le="511"} 0\n`);
    expect(text).toContain(`coredns_dns_response_size_bytes_bucket{${tcp},le="1023"} 1\n`);
    expect(text).toContain(`coredns_dns_response_size_bytes_bucket{${tcp},le="64000"} 1\n`);
    expect(text).toContain(`coredns_dns_response_size_bytes_bucket{${tcp},le="+Inf"} 1\n`);
    expect(text).toContain(`coredns_dns_response_size_bytes_sum{${tcp}} 600\n`);
  });

  it("reports the forwarding cache's hits by kind and its misses", () => {
    const cache = new ForwardCache();
    cache.get("missing");
    const metrics = new QueryMetrics({ server: () => "dns://127.0.0.1:1053", family: "1", cache });
    const text = metrics.exposition();
    expect(text).toContain('coredns_cache_hits_total{server="dns://127.0.0.1:1053",view="",zones=".",type="success"} 0\n');
    expect(text).toContain('coredns_cache_misses_total{server="dns://127.0.0.1:1053",view="",zones="."} 1\n');
  });

  it("reports prefetches started and stale answers served, under CoreDNS's names", () => {
    const cache = new ForwardCache({ serveStale: { durationMs: 60_000, verify: false } });
    cache.notePrefetch();
    const text = new QueryMetrics({ server: () => "dns://:53", family: "1", cache }).exposition();
    expect(text).toContain('coredns_cache_prefetch_total{server="dns://:53",view="",zones="."} 1\n');
    expect(text).toContain('coredns_cache_served_stale_total{server="dns://:53",view="",zones="."} 0\n');
    expect(text).toContain("# TYPE coredns_cache_served_stale_total counter\n");
  });

  it("reports what each cache holds in bytes and entries, and what it evicted", async () => {
    const forward = new ForwardCache({ maxBytes: 1024 * 1024, servfailTtl: 5 });
    const question = queryBytes("example.org", TYPE.A).subarray(12);
    for (let i = 0; i < 3000; i++) forward.setFailure(`n${i}`, question);
    const answerCache = new AnswerCache({ maxBytes: 1024 * 1024 });
    const handle = createQueryHandler({ store: clusterStore(), answerCache });
    await handle(queryBytes("nginx.default.svc.cluster.local", TYPE.A), "udp");
    const metrics = new QueryMetrics({ server: () => "dns://:53", family: "1", cache: forward, answerCache });
    const text = metrics.exposition();
    const zones = 'server="dns://:53",view="",zones="."';
    expect(text).toContain(`coredns_cache_entries{${zones},type="all"} ${forward.size}\n`);
    expect(text).toContain(`coredns_cache_evictions_total{${zones},type="success"} 0\n`);
    expect(text).toContain(`coredns_cache_evictions_total{${zones},type="denial"} ${3000 - forward.size}\n`);
    expect(forward.size).toBeLessThan(3000);
    expect(text).toContain(`signpost_dns_forward_cache_bytes ${forward.bytes}\n`);
    expect(forward.bytes).toBeLessThanOrEqual(1024 * 1024);
    expect(text).toContain("signpost_dns_answer_cache_entries 1\n");
    expect(text).toContain(`signpost_dns_answer_cache_bytes ${answerCache.bytes}\n`);
    expect(text).toContain("signpost_dns_answer_cache_evictions_total 0\n");
    expect(text).toMatch(/# TYPE signpost_dns_answer_cache_bytes gauge\n/);
  });
});

describe("TcpMetrics", () => {
  it("counts rejected, timed-out and paused connections by reason, zeros included, with the open ones", () => {
    const metrics = new TcpMetrics(() => "dns://:53");
    metrics.rejected("max_connections_per_ip");
    metrics.rejected("max_connections_per_ip");
    metrics.timedOut("read_timeout");
    metrics.paused("write_buffer");
    const lines = metrics.exposition(7).split("\n").filter((l) => !l.startsWith("#") && l !== "");
    expect(lines).toEqual([
      'coredns_dns_tcp_connections{server="dns://:53"} 7',
      'coredns_dns_tcp_connections_rejected_total{server="dns://:53",reason="max_connections"} 0',
      'coredns_dns_tcp_connections_rejected_total{server="dns://:53",reason="max_connections_per_ip"} 2',
      'coredns_dns_tcp_connections_closed_total{server="dns://:53",reason="read_timeout"} 1',
      'coredns_dns_tcp_connections_closed_total{server="dns://:53",reason="idle_timeout"} 0',
      'coredns_dns_tcp_read_pauses_total{server="dns://:53",reason="write_buffer"} 1',
      'coredns_dns_tcp_read_pauses_total{server="dns://:53",reason="in_flight"} 0',
    ]);
    expect(metrics.exposition(0)).toContain("# TYPE coredns_dns_tcp_connections gauge\n");
    expect(metrics.exposition(0)).toContain("# TYPE coredns_dns_tcp_connections_rejected_total counter\n");
  });
});
