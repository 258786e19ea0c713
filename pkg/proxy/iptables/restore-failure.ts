// What an operator needs when iptables-restore refuses its input: the binary's own message and
// the lines around the one it names, numbered as in the input. iptables-restore reports the line
// where it noticed the problem ("Error occurred at line: N"), which for nft is sometimes the
// COMMIT after the bad rule, so a few lines either side are shown.

/** The line iptables-restore names in its error output, or null when it names none. */
export function failedLine(stderr: string): number | null {
  const m = /line:?\s+([0-9]+)/i.exec(stderr);
  return m === null ? null : Number(m[1]);
}

/** The input's lines within `radius` of `line` (1-based), numbered, the named one marked with ">". */
export function linesAround(text: string, line: number, radius = 3): string[] {
  const lines = text.split("\n");
  const from = Math.max(1, line - radius);
  const to = Math.min(lines.length, line + radius);
  const width = String(to).length;
  const out: string[] = [];
  for (let n = from; n <= to; n++) {
    out.push(`${n === line ? ">" : " "} ${String(n).padStart(width)}: ${lines[n - 1] ?? ""}`);
  }
  return out;
}

/** The message without iptables' "Try `iptables-restore -h'" boilerplate, on one line. */
export function restoreMessage(stderr: string): string {
  const kept = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("Try `"));
  return kept.join("; ") || "no message";
}
