// Checks that an informer's event stream is a faithful history: replaying it gives exactly the
// API server's current state, and no event repeats or skips a version of an object.
import type { InformerEvent } from "../../pkg/kube/object-store.ts";

export interface Versioned {
  readonly name: string;
  readonly rv: string;
}

/** Replays events into a map, throwing at the first event that contradicts the history so far. */
export function replay<T extends Versioned>(events: readonly InformerEvent<T>[]): Map<string, string> {
  const state = new Map<string, string>();
  for (const [i, e] of events.entries()) {
    const held = state.get(e.key);
    switch (e.type) {
      case "add":
        if (held !== undefined) throw new Error(`event ${i}: add of ${e.key} which is already present at rv ${held}`);
        state.set(e.key, e.object.rv);
        break;
      case "update":
        if (held !== e.old.rv) throw new Error(`event ${i}: update of ${e.key} from rv ${e.old.rv}, but rv ${String(held)} was delivered last`);
        if (e.object.rv === e.old.rv) throw new Error(`event ${i}: update of ${e.key} to the same rv ${e.old.rv}`);
        state.set(e.key, e.object.rv);
        break;
      case "delete":
        if (held !== e.old.rv) throw new Error(`event ${i}: delete of ${e.key} at rv ${e.old.rv}, but rv ${String(held)} was delivered last`);
        state.delete(e.key);
        break;
    }
  }
  return state;
}
