// Reads iptables-save output into "table/CHAIN" -> rules, in rule order, without counters and
// generator comments, so two rule sets can be compared whatever order their chains were made in.

export function chainsOf(saved: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let table = "";
  for (const raw of saved.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("*")) table = line.slice(1);
    else if (line.startsWith(":")) {
      const name = line.slice(1).split(" ")[0] ?? "";
      if (!out.has(`${table}/${name}`)) out.set(`${table}/${name}`, []);
    } else if (line.startsWith("-A ")) {
      const chain = line.split(" ")[1] ?? "";
      const key = `${table}/${chain}`;
      out.set(key, [...(out.get(key) ?? []), line]);
    }
  }
  return new Map([...out.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
}

/**
 * The nat KUBE-SERVICES rules as one flat list: a jump to a KUBE-DST chain (the chain is split by
 * destination prefix once it is long, as when earlier tests left many Services behind) is
 * replaced by that chain's rules. Tests find a Service's entry rule here whatever the layout.
 */
export function serviceEntryRules(chains: ReadonlyMap<string, readonly string[]>): string[] {
  return (chains.get("nat/KUBE-SERVICES") ?? []).flatMap((rule) => {
    const dst = / -j (KUBE-DST-\S+)$/.exec(rule)?.[1];
    return dst === undefined ? [rule] : [...(chains.get(`nat/${dst}`) ?? [])];
  });
}
