import { describe, expect, it } from "vitest";
import { QueryMetrics } from "./metrics.ts";
import { RCODE, TYPE } from "./records.ts";
import { RequestZones } from "./request-zones.ts";

const layout = { protocols: 1, types: 1, durationBuckets: 1, sizeBuckets: 1 };
import { queryBytes, responseWith } from "./testing/messages.ts";

const zoneOf = (zones: RequestZones, name: string) => zones.of(queryBytes(name, TYPE.A)).label;

describe("the zone a query is counted under", () => {
  it("is the most specific configured zone that holds the name, else the root", () => {
    const zones = new RequestZones(["cluster.local", "example.corp", "lab.example.corp", "10.in-addr.arpa"], layout);
    expect(zoneOf(zones, "nginx.default.svc.cluster.local")).toBe("cluster.local.");
    expect(zoneOf(zones, "cluster.local")).toBe("cluster.local.");
    expect(zoneOf(zones, "NGINX.Default.SVC.Cluster.Local")).toBe("cluster.local.");
    expect(zoneOf(zones, "a.lab.example.corp")).toBe("lab.example.corp.");
    expect(zoneOf(zones, "a.example.corp")).toBe("example.corp.");
    expect(zoneOf(zones, "1.0.0.10.in-addr.arpa")).toBe("10.in-addr.arpa.");
    expect(zoneOf(zones, "www.example.com")).toBe(".");
    expect(zoneOf(zones, "")).toBe(".");
  });

  it("matches whole labels only", () => {
    const zones = new RequestZones(["cluster.local"], layout);
    expect(zoneOf(zones, "xcluster.local")).toBe(".");
    expect(zoneOf(zones, "a.cluster.localx")).toBe(".");
    expect(zoneOf(zones, "local")).toBe(".");
  });

  it("counts a question it cannot walk (compressed, truncated) under the root", () => {
    const zones = new RequestZones(["cluster.local"], layout);
    const compressed = Buffer.concat([queryBytes("", TYPE.A).subarray(0, 12), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])]);
    expect(zones.of(compressed).label).toBe(".");
    expect(zones.of(queryBytes("a.cluster.local", TYPE.A).subarray(0, 20)).label).toBe(".");
  });

  it("keeps the counts of a zone still configured after setZones and drops those of a removed one", () => {
    const zones = new RequestZones(["cluster.local", "example.corp"], layout);
    zones.of(queryBytes("a.cluster.local", TYPE.A)).response(RCODE.NXDOMAIN);
    zones.of(queryBytes("b.cluster.local", TYPE.A)).response(3841);
    zones.of(queryBytes("a.example.corp", TYPE.A)).response(RCODE.NOERROR);
    zones.setZones(["cluster.local", "other.corp"]);
    expect(zones.all().map((z) => [z.label, z.responseCounts()])).toEqual([
      [".", []],
      ["cluster.local.", [[RCODE.NXDOMAIN, 1], [3841, 1]]],
      ["other.corp.", []],
    ]);
  });
});

describe("QueryMetrics by zone", () => {
  it("labels requests, responses, durations and sizes with the zone", () => {
    const metrics = new QueryMetrics({ server: () => "dns://:53", family: "1", zones: ["cluster.local", "example.corp"] });
    metrics.record(queryBytes("nginx.default.svc.cluster.local", TYPE.A), "udp", responseWith(RCODE.NOERROR), 0);
    metrics.record(queryBytes("x.default.svc.cluster.local", TYPE.AAAA), "udp", responseWith(RCODE.NXDOMAIN), 0);
    metrics.record(queryBytes("db.example.corp", TYPE.A), "tcp", responseWith(RCODE.SERVFAIL), 0);
    metrics.record(queryBytes("www.example.com", TYPE.A), "udp", responseWith(RCODE.NOERROR), 0);
    const text = metrics.exposition();
    const lines = text.split("\n").filter((l) => /^coredns_dns_(requests|responses)_total\{/.test(l));
    expect(lines).toEqual([
      'coredns_dns_requests_total{server="dns://:53",zone=".",view="",proto="udp",family="1",type="A"} 1',
      'coredns_dns_requests_total{server="dns://:53",zone="cluster.local.",view="",proto="udp",family="1",type="A"} 1',
      'coredns_dns_requests_total{server="dns://:53",zone="cluster.local.",view="",proto="udp",family="1",type="AAAA"} 1',
      'coredns_dns_requests_total{server="dns://:53",zone="example.corp.",view="",proto="tcp",family="1",type="A"} 1',
      'coredns_dns_responses_total{server="dns://:53",zone=".",view="",rcode="NOERROR",plugin=""} 1',
      'coredns_dns_responses_total{server="dns://:53",zone="cluster.local.",view="",rcode="NOERROR",plugin=""} 1',
      'coredns_dns_responses_total{server="dns://:53",zone="cluster.local.",view="",rcode="NXDOMAIN",plugin=""} 1',
      'coredns_dns_responses_total{server="dns://:53",zone="example.corp.",view="",rcode="SERVFAIL",plugin=""} 1',
    ]);
    // The duration and size histograms carry the zone too, as CoreDNS's.
    expect(text).toContain('coredns_dns_request_duration_seconds_count{server="dns://:53",zone="cluster.local.",view="",type="AAAA"} 1\n');
    expect(text).toContain('coredns_dns_request_duration_seconds_count{server="dns://:53",zone="example.corp.",view="",type="A"} 1\n');
    expect(text).toContain('coredns_dns_request_size_bytes_count{server="dns://:53",zone="cluster.local.",view="",proto="udp"} 2\n');
    expect(text).toContain('coredns_dns_response_size_bytes_count{server="dns://:53",zone="example.corp.",view="",proto="tcp"} 1\n');
  });
});
