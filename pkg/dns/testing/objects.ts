// Model objects for the DNS tests, with the defaults a Service or EndpointSlice gets from the
// API server, so a test spells only the fields it is about.
import type { Endpoint, EndpointSlice, Service } from "../../model/types.ts";
import { RecordStore, type RecordStoreOptions } from "../record-store.ts";
import { serviceDefaults } from "../../model/testing/service-defaults.ts";

export function service(fields: Partial<Service> & { name: string; namespace?: string }): Service {
  return { ...serviceDefaults(fields.namespace ?? "default", fields.name), ...fields };
}

export function endpoint(address: string, fields: Partial<Endpoint> = {}): Endpoint {
  return {
    addresses: [address],
    ready: true,
    serving: true,
    terminating: false,
    hostname: "",
    nodeName: "node-1",
    zone: "",
    hints: null,
    podName: `pod-${address.replaceAll(/[.:]/g, "-")}`,
    ...fields,
  };
}

export function slice(fields: Partial<EndpointSlice> & { name: string; serviceName: string }): EndpointSlice {
  return {
    namespace: "default",
    addressType: "IPv4",
    ports: [],
    endpoints: [],
    ...fields,
  };
}

/**
 * A synced store holding a small cluster: namespaces default and kube-system (and "empty",
 * which has no Service), a ClusterIP Service with two named ports, a dual-stack Service, a
 * headless StatefulSet-style Service, a headless Service with no ready endpoint and an
 * ExternalName.
 */
export function clusterStore(options: RecordStoreOptions = {}): RecordStore {
  const store = new RecordStore({ now: () => 1_700_000_000_000, ...options });
  for (const name of ["default", "kube-system", "empty"]) store.upsertNamespace({ name });
  store.upsertService(
    service({
      name: "nginx",
      clusterIPs: ["10.96.0.10"],
      ports: [
        { name: "http", protocol: "TCP", port: 80, nodePort: 0 },
        { name: "https", protocol: "TCP", port: 443, nodePort: 0 },
      ],
    }),
  );
  store.upsertEndpointSlice(
    slice({
      name: "nginx-abc",
      serviceName: "nginx",
      ports: [{ name: "http", protocol: "TCP", port: 8080 }],
      endpoints: [endpoint("10.244.1.5"), endpoint("10.244.2.6", { ready: false })],
    }),
  );
  store.upsertService(
    service({
      name: "dual",
      clusterIPs: ["10.96.0.20", "fd00:10:96::20"],
      ipFamilies: ["IPv4", "IPv6"],
      ports: [{ name: "", protocol: "UDP", port: 53, nodePort: 0 }],
    }),
  );
  store.upsertService(
    service({
      name: "web",
      headless: true,
      ports: [{ name: "http", protocol: "TCP", port: 80, nodePort: 0 }],
    }),
  );
  store.upsertEndpointSlice(
    slice({
      name: "web-1",
      serviceName: "web",
      ports: [{ name: "http", protocol: "TCP", port: 80 }],
      endpoints: [
        endpoint("10.244.1.10", { hostname: "web-0" }),
        endpoint("10.244.2.11", { hostname: "web-1" }),
        endpoint("10.244.3.12"),
        endpoint("10.244.3.13", { ready: false, hostname: "web-3" }),
      ],
    }),
  );
  store.upsertService(service({ name: "idle", headless: true }));
  store.upsertEndpointSlice(
    slice({ name: "idle-1", serviceName: "idle", endpoints: [endpoint("10.244.4.4", { ready: false })] }),
  );
  store.upsertService(service({ name: "search", type: "ExternalName", externalName: "search.example.org" }));
  store.markSynced();
  return store;
}
