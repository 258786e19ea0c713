// After the first load the heap holds the garbage of converting a whole cluster (a JSON dump,
// or every page of the initial lists), which V8 would keep as headroom, resident, until
// allocation pressure builds. One full collection then returns it to the system; it runs once
// after the first load (and in the proxy after each full sync), never per query, though
// signpost-dns answers nothing while it runs.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** V8's gc extension, with the options Node 24's V8 takes. */
type GcExtension = (options: { type: "major"; execution: "sync"; flavor: "last-resort" }) => void;

/** Collects everything collectable and gives back the emptied pages; returns how long it took, in ms. */
export function settleHeap(): number {
  const started = performance.now();
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as GcExtension | undefined;
  // "last-resort" is V8's collect-all-available-garbage: repeated full collections that also
  // compact and release the pages they empty, which a plain gc() leaves mapped.
  if (typeof gc === "function") gc({ type: "major", execution: "sync", flavor: "last-resort" });
  return performance.now() - started;
}
