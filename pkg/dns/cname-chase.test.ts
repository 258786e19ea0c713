import { Packet } from "dns2";
import { describe, expect, it } from "vitest";
import { resolveTarget } from "./cname-chase.ts";
import type { ForwardRequest } from "./query-handler.ts";
import { TYPE } from "./records.ts";

/** An upstream as the forwarder returns it: its own query ID, not the one chased with. */
function upstreamAnswering(name: string, address: string) {
  const asked: ForwardRequest[] = [];
  const forward = (request: ForwardRequest) => {
    asked.push(request);
    const query = Packet.parse(request.message);
    const response = Packet.createResponseFromRequest(query);
    response.header.id = (query.header.id + 1) & 0xffff;
    response.answers.push(new Packet.Resource({ name, type: TYPE.A, class: 1, ttl: 30, address }));
    return Promise.resolve(response.toBuffer());
  };
  return { forward, asked };
}

describe("resolveTarget", () => {
  it("takes the upstream's records for the target, whatever ID the forwarder's answer carries", async () => {
    const { forward, asked } = upstreamAnswering("www.example.test", "192.0.2.10");
    const sets = await resolveTarget(forward, "www.example.test", TYPE.A);
    expect(asked.map((r) => `${r.name} ${r.qtype}`)).toEqual(["www.example.test 1"]);
    expect(sets).toEqual([
      { type: TYPE.A, owner: "www.example.test", records: [{ type: "A", ttl: 30, address: "192.0.2.10" }], additional: [] },
    ]);
  });

  it("returns nothing when the upstream fails", async () => {
    const sets = await resolveTarget(() => Promise.reject(new Error("timed out")), "www.example.test", TYPE.A);
    expect(sets).toEqual([]);
  });
});
