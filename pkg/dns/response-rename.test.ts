import { Packet } from "dns2";
import { describe, expect, it } from "vitest";
import { renameResponse, withQuestionName } from "./response-rename.ts";
import { queryBytes, render } from "./testing/messages.ts";

function upstreamResponse(): Buffer {
  const p = new Packet();
  p.header.id = 7;
  p.header.qr = 1;
  p.questions.push(new Packet.Question("www.example.org", Packet.TYPE.SRV, 1));
  p.answers.push(new Packet.Resource({ name: "www.example.org", type: Packet.TYPE.SRV, class: 1, ttl: 30, priority: 0, weight: 5, port: 80, target: "host.example.org" }));
  p.authorities.push(new Packet.Resource({ name: "example.org", type: Packet.TYPE.SOA, class: 1, ttl: 30, primary: "ns.example.org", admin: "admin.example.org", serial: 1, refresh: 2, retry: 3, expiration: 4, minimum: 5 }));
  return p.toBuffer();
}

describe("response rename", () => {
  const asked = queryBytes("WWW.corp", Packet.TYPE.SRV, { id: 7 });
  const question = asked.subarray(12);

  it("puts the asked question back and spells out every name, renaming answer owners only", () => {
    const out = renameResponse(upstreamResponse(), question, (owner) => (owner === "www.example.org" ? null : owner), 512);
    expect(out && render(out)).toMatchObject({
      id: 7,
      question: "WWW.corp SRV",
      answer: ["WWW.corp SRV 0 5 80 host.example.org"],
      authority: ["example.org SOA ns.example.org admin.example.org 1 2 3 4 5"],
    });
  });

  it("cuts to the question with TC set past the client's limit, and refuses what it cannot read", () => {
    const out = renameResponse(upstreamResponse(), question, () => "a-much-longer-name-than-before.example.org", 60);
    expect(out && render(out)).toMatchObject({ flags: "qr tc", question: "WWW.corp SRV", answer: [], authority: [] });
    expect(renameResponse(upstreamResponse().subarray(0, 40), question, () => null, 512)).toBeNull();
  });

  it("asks the new name with the rest of the message as it was", () => {
    const query = queryBytes("a.example", Packet.TYPE.A, { id: 9, udpSize: 1232 });
    const renamed = Packet.parse(withQuestionName(query, 12 + 11, "b.example.org"));
    expect(renamed.header.id).toBe(9);
    expect(renamed.questions[0]?.name).toBe("b.example.org");
    expect(renamed.additionals[0]?.class).toBe(1232);
  });
});
