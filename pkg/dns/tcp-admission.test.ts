import { describe, expect, it } from "vitest";
import { TcpAdmission } from "./tcp-admission.ts";

describe("TcpAdmission", () => {
  it("takes connections up to the cap per IP, then turns that address away and no other", () => {
    const admission = new TcpAdmission(10, 2);
    expect([admission.admit("10.0.0.1"), admission.admit("10.0.0.1")]).toEqual([null, null]);
    expect(admission.admit("10.0.0.1")).toBe("max_connections_per_ip");
    expect(admission.admit("10.0.0.2")).toBeNull();
    expect(admission.open).toBe(3);
  });

  it("takes connections up to the cap in all, whatever their sources, and again once one is released", () => {
    const admission = new TcpAdmission(3, 2);
    for (const source of ["10.0.0.1", "10.0.0.2", "fd00::3"]) expect(admission.admit(source)).toBeNull();
    expect(admission.admit("10.0.0.4")).toBe("max_connections");
    admission.release("10.0.0.2");
    expect(admission.admit("10.0.0.4")).toBeNull();
    expect(admission.open).toBe(3);
  });

  it("frees a source's share on release, and ignores a release of nothing", () => {
    const admission = new TcpAdmission(10, 1);
    expect(admission.admit("10.0.0.1")).toBeNull();
    admission.release("10.0.0.1");
    admission.release("10.0.0.1");
    admission.release("10.0.0.9");
    expect(admission.open).toBe(0);
    expect(admission.admit("10.0.0.1")).toBeNull();
    expect(admission.admit("10.0.0.1")).toBe("max_connections_per_ip");
  });
});
