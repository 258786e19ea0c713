// The machine a section ran on, kept with the section's versions. Sections are run at different
// times, and the machine under them changes: this one went from AMD EPYC to Intel Xeon cores
// between two sessions, and the UDP ceiling and signpost-dns's queries/s doubled while
// CoreDNS's stayed where it was. A figure means something only beside the machine it came from.
import { cpus, release } from "node:os";

export function machineVersions(): Record<"cpu" | "kernel", string> {
  const cpu = cpus();
  return { cpu: `${cpu[0]?.model ?? "unknown"}, ${cpu.length} cores`, kernel: release() };
}
