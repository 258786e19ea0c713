import { describe, expect, it } from "vitest";
import { ipv4ReceiveBufferErrors, ipv6ReceiveBufferErrors, udpDropsExposition } from "./udp-drops.ts";

const snmp = [
  "Ip: Forwarding DefaultTTL",
  "Ip: 1 64",
  "Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors",
  "Udp: 160103 0 18558 160153 18558 0 0 0 0",
  "UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors",
  "UdpLite: 0 0 0 0 7 0 0 0 0",
].join("\n");
const snmp6 = "Udp6InErrors                    \t3\nUdp6RcvbufErrors                \t2\nUdpLite6RcvbufErrors\t9\n";

describe("UDP receive buffer drops", () => {
  it("reads RcvbufErrors of UDP, not UDP-Lite, for both families", () => {
    expect(ipv4ReceiveBufferErrors(snmp)).toBe(18558);
    expect(ipv6ReceiveBufferErrors(snmp6)).toBe(2);
    expect(ipv4ReceiveBufferErrors("")).toBeNull();
    expect(ipv6ReceiveBufferErrors("")).toBeNull();
  });

  it("writes a counter per family, and only the family whose file could be read", () => {
    const both = udpDropsExposition({ read: (path) => (path.endsWith("snmp6") ? snmp6 : snmp) });
    expect(both).toContain('signpost_dns_udp_receive_buffer_errors_total{family="1"} 18558\n');
    expect(both).toContain('signpost_dns_udp_receive_buffer_errors_total{family="2"} 2\n');
    const v4 = udpDropsExposition({
      read: (path) => {
        if (path.endsWith("snmp6")) throw new Error("ENOENT");
        return snmp;
      },
    });
    expect(v4).not.toContain('family="2"');
  });
});
