// Remembers what each Service port rendered to, keyed by its state object. Node-local state is
// immutable and a changed Service gets new objects, so an entry stays right until the render
// config changes, which clears the cache. A partial sync then costs only the changed Services,
// and a periodic full sync of an unchanged cluster is string concatenation. The wiring keeps one
// cache across syncs; a render without one gets a fresh cache and is merely slower.

import { isDeepStrictEqual } from "node:util";
import type { ServicePortState } from "../proxy-state.ts";
import { ChainNamer } from "./chain-names.ts";
import type { RenderConfig } from "./render-config.ts";
import { renderServicePort } from "./render-service.ts";
import { TableBuffer } from "./restore-writer.ts";
import { DestinationRules } from "./service-dispatch.ts";

export interface PortOutput {
  /** Rules in the filter table's top-level chains. */
  readonly filter: TableBuffer;
  /** Rules in KUBE-SERVICES, by destination. */
  readonly services: DestinationRules;
  /** Rules in KUBE-NODEPORTS. */
  readonly natTop: TableBuffer;
  /** The port's own chains, with their rules. */
  readonly natChains: TableBuffer;
  readonly activeChains: ReadonlySet<string>;
}

export class RenderCache {
  readonly namer = new ChainNamer();
  #config: RenderConfig | null = null;
  #outputs = new WeakMap<ServicePortState, PortOutput>();

  output(port: ServicePortState, config: RenderConfig): PortOutput {
    // A render passes one config object for all its ports: compared in depth once per object,
    // not once per port (at 1,000 ports that was 6 ms of every sync).
    if (config !== this.#config) {
      if (this.#config === null || !isDeepStrictEqual(this.#config, config)) this.#outputs = new WeakMap();
      this.#config = config;
    }
    let out = this.#outputs.get(port);
    if (out === undefined) {
      const target = {
        filter: new TableBuffer(),
        services: new DestinationRules(),
        natTop: new TableBuffer(),
        natChains: new TableBuffer(),
        activeChains: new Set<string>(),
        namer: this.namer,
        config,
      };
      renderServicePort(port, target);
      out = target;
      this.#outputs.set(port, out);
    }
    return out;
  }
}
