// Reads the JUnit XML that e2e.test writes with --report-dir (ginkgo's reporter): one result per
// spec, with the skip message or the failure text. Ginkgo's output is regular enough that a
// small reader does; no XML library is needed for these few elements and attributes.

export type Outcome = "passed" | "failed" | "skipped";

export interface SpecResult {
  readonly name: string;
  readonly outcome: Outcome;
  /** Ginkgo's skip message ("skipped" when a filter left the spec out) or the failure's first line. */
  readonly detail: string;
  readonly seconds: number;
}

export interface SuiteResult {
  readonly specs: readonly SpecResult[];
  readonly seconds: number;
}

const ENTITIES: Record<string, string> = { quot: '"', apos: "'", amp: "&", lt: "<", gt: ">" };

export function decodeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, ref: string) => {
    if (ref.startsWith("#x")) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith("#")) return String.fromCodePoint(parseInt(ref.slice(1), 10));
    return ENTITIES[ref] ?? whole;
  });
}

function attributes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/([\w:-]+)="([^"]*)"/g)) out.set(m[1] ?? "", decodeXml(m[2] ?? ""));
  return out;
}

function outcomeOf(status: string): Outcome {
  if (status === "passed") return "passed";
  if (status === "skipped" || status === "pending") return "skipped";
  // failed, panicked, interrupted, aborted, timedout: the spec did not pass.
  return "failed";
}

/** What went wrong: ginkgo's "[FAILED] ..." line and the lines after it, up to where it happened. */
function failureSummary(body: string, status: string): string {
  const text = decodeXml(body.match(/<failure\b[^>]*>([\s\S]*?)<\/failure>/)?.[1] ?? "");
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const first = lines.findIndex((l) => l.startsWith("[FAILED]") || l.startsWith("[PANICKED]"));
  const from = Math.max(first, 0);
  const end = lines.findIndex((l, i) => i > from && l.startsWith("In ["));
  const summary = lines.slice(from, end === -1 ? from + 3 : end).join(" ").replace(/^\[(FAILED|PANICKED)\]\s*/, "");
  return summary === "" ? status : summary;
}

/** Ginkgo's own nodes (BeforeSuite, ReportAfterSuite, ...) are not specs. */
function isSuiteNode(name: string): boolean {
  return /^\[(Synchronized)?(Before|After)Suite\]$|^\[ReportAfterSuite\]|^\[ReportBeforeSuite\]/.test(name);
}

export function parseJUnit(xml: string): SuiteResult {
  const specs: SpecResult[] = [];
  for (const m of xml.matchAll(/<testcase\b([^>]*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const attrs = attributes(m[1] ?? "");
    const body = m[2] ?? "";
    // Ginkgo names a spec by its leaf node type first ("[It] [sig-network] ..."); the spec's
    // text is what the selection and a reader go by.
    const name = (attrs.get("name") ?? "").replace(/^\[It\] /, "");
    if (name === "" || isSuiteNode(name)) continue;
    const outcome = outcomeOf(attrs.get("status") ?? (body.includes("<failure") ? "failed" : "passed"));
    const detail = outcome === "skipped"
      ? decodeXml(body.match(/<skipped\b[^>]*message="([^"]*)"/)?.[1] ?? "skipped")
      : outcome === "failed" ? failureSummary(body, attrs.get("status") ?? "failed") : "";
    specs.push({ name, outcome, detail, seconds: Number(attrs.get("time") ?? "0") });
  }
  const suite = attributes(xml.match(/<testsuites?\b([^>]*)>/)?.[1] ?? "");
  return { specs, seconds: Number(suite.get("time") ?? "0") };
}
