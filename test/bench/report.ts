// Writes docs/benchmarks.md and its plots (docs/bench/*.svg) from the JSON that each benchmark
// section left in BENCH_OUT: the machine and date, the versions, one table per section with
// medians, spreads and the ratio signpost/opponent, the issue's targets met or missed, and the
// commands behind every figure. Run by hack/bench.sh after the sections; never edited by hand.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { totalmem } from "node:os";
import { join, relative } from "node:path";
import { machineVersions } from "./machine.ts";
import { benchOutDir, type Figure, type SectionResults } from "./results.ts";
import { ceilingShareOf, formatNumber, formatSpread, formatTarget, mergeCurves, ratioOf, spreadOf, verdictOf } from "./summary.ts";
import { renderSvgPlot } from "./svg-plot.ts";

const root = join(import.meta.dirname, "..", "..");
const docs = process.env["BENCH_DOCS"] ?? join(root, "docs");
const plots = join(docs, "bench");

const SECTION_TITLES: Record<SectionResults["section"], string> = {
  proxy: "signpost-proxy against kube-proxy at 1,000 Services",
  "proxy-10k": "signpost-proxy against kube-proxy at 10,000 Services",
  "proxy-30k": "signpost-proxy against kube-proxy at 30,000 Services (item 6 of issue 19)",
  "proxy-nft": "signpost-proxy against kube-proxy on iptables-nft (item 4 of issue 19)",
  dns: "signpost-dns against CoreDNS",
  nodelocal: "node-local DNS layout against the plain layout (issue 18), on the local cluster",
};

function readSections(): SectionResults[] {
  const sections: SectionResults[] = [];
  for (const name of ["proxy", "proxy-10k", "proxy-30k", "proxy-nft", "dns", "nodelocal"] as const) {
    const file = join(benchOutDir(), `${name}.json`);
    if (existsSync(file)) sections.push(JSON.parse(readFileSync(file, "utf8")) as SectionResults);
  }
  return sections;
}

function gitCommit(): string {
  try {
    return execFileSync("git", ["-C", root, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

function machine(): string[] {
  const { cpu, kernel } = machineVersions();
  return [
    `- CPU: ${cpu}`,
    `- Memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- Kernel: Linux ${kernel}`,
    `- Node.js: ${process.version}; this report written at commit ${gitCommit()}; each section's Versions line names the commit its run measured`,
  ];
}

function ratioCell(figure: Figure): string {
  const ratio = ratioOf(figure);
  if (ratio === null) return "—";
  if (figure.better === "neither") return formatNumber(ratio);
  const better = figure.better === "lower" ? ratio < 1 : ratio > 1;
  return `${formatNumber(ratio)}${ratio === 1 ? "" : better ? " (signpost better)" : " (signpost worse)"}`;
}

/** The machine's limit and each contestant's share of it, for a figure that has one. */
function ceilingCell(figure: Figure): string {
  if (figure.ceiling === undefined) return "";
  const spread = spreadOf(figure.ceiling.samples);
  if (spread === null) return `${figure.ceiling.name}: missing`;
  // A rate is a share of the ceiling; a time, a multiple of the floor.
  const share = (samples: readonly number[] | null): string => {
    const fraction = ceilingShareOf(figure, samples);
    if (fraction === null) return "—";
    return figure.better === "higher" ? `${Math.round(fraction * 100)}%` : `${formatNumber(fraction)}×`;
  };
  return `${figure.ceiling.name}: ${formatSpread(spread, figure.unit)}; signpost ${share(figure.signpost)}, ${figure.opponentName} ${share(figure.opponent)}`;
}

function figureTable(figures: readonly Figure[]): string[] {
  const withCeiling = figures.some((f) => f.ceiling !== undefined);
  const lines = [
    `| group | figure | signpost: median (min–max, n) | opponent: median (min–max, n) | ratio signpost/opponent |${withCeiling ? " machine's limit, and each one against it |" : ""} target | verdict |`,
    `| --- | --- | --- | --- | --- |${withCeiling ? " --- |" : ""} --- | --- |`,
  ];
  for (const f of figures) {
    const verdict = verdictOf(f);
    lines.push(
      `| ${f.group} | ${f.name} (${f.better === "neither" ? "context, no better" : `${f.better} is better`}) | ${formatSpread(spreadOf(f.signpost), f.unit)} | ${f.opponentName}: ${formatSpread(spreadOf(f.opponent), f.unit)} | ${ratioCell(f)} |${withCeiling ? ` ${ceilingCell(f)} |` : ""} ${formatTarget(f)} | ${verdict === "no target" ? "" : verdict} |`,
    );
  }
  return lines;
}

function notesAndCommands(figures: readonly Figure[]): string[] {
  const lines: string[] = [];
  const notes = figures.filter((f) => f.note !== undefined);
  if (notes.length > 0) {
    lines.push("", "Notes:", "");
    // One line each: a note may quote what a failed daemon printed.
    // A figure has one row per opponent; a note they share is said once.
    const said = new Set<string>();
    for (const f of notes) {
      const line = `- ${f.group}, ${f.name}: ${(f.note ?? "").trim().split("\n").map((l) => l.trim()).join(" | ")}`;
      if (!said.has(line)) lines.push(line);
      said.add(line);
    }
  }
  lines.push("", "<details><summary>Commands behind each figure</summary>", "");
  const listed = new Set<string>();
  for (const f of figures) {
    const block = [`- ${f.group}, ${f.name}:`, ...f.commands.map((c) => `  - \`${c.replace(/`/g, "'")}\``)];
    const key = block.join("\n");
    if (!listed.has(key)) lines.push(...block);
    listed.add(key);
  }
  lines.push("", "</details>");
  return lines;
}

function writeReport(sections: readonly SectionResults[]): string {
  mkdirSync(plots, { recursive: true });
  const out: string[] = [
    "# Benchmarks",
    "",
    "Written by `npm run bench` (`hack/bench.sh`); every figure below comes from that script's run on",
    "the machine its Versions line names (CPU and kernel), both contestants against the same",
    "kube-apiserver in the same run, taking turns. Ratios are signpost's median over the opponent's;",
    "absolute figures compare only within a section. Do not edit by hand: run it again.",
    "",
    "## The machine this report was written on",
    "",
    ...machine(),
  ];
  // A plot that several sections add to is drawn once, with every section's points, where its slug first comes.
  const merged = new Map(mergeCurves(sections.flatMap((s) => s.curves)).map((c) => [c.slug, c]));
  for (const s of sections) {
    out.push("", `## ${SECTION_TITLES[s.section]}`, "", `Run from ${s.startedAt} to ${s.finishedAt}.`, "");
    out.push(`Versions: ${Object.entries(s.versions).map(([k, v]) => `${k} ${v}`).join("; ")}.`, "");
    out.push(...figureTable(s.figures));
    for (const { slug } of s.curves) {
      const curve = merged.get(slug);
      if (curve === undefined) continue;
      merged.delete(slug);
      const file = join(plots, `${slug}.svg`);
      writeFileSync(file, renderSvgPlot(curve));
      out.push("", `![${curve.title}](${relative(docs, file)})`);
    }
    out.push(...notesAndCommands(s.figures));
  }
  if (sections.length === 0) out.push("", `No section results were found in ${benchOutDir()}.`);
  const file = join(docs, "benchmarks.md");
  writeFileSync(file, `${out.join("\n")}\n`);
  return file;
}

const file = writeReport(readSections());
process.stderr.write(`[bench] wrote ${relative(root, file)}\n`);
