import { describe, expect, it } from "vitest";
import type { Figure } from "./results.ts";
import { ceilingShareOf, formatNumber, formatSpread, formatTarget, mergeCurves, ratioOf, spreadOf, verdictOf } from "./summary.ts";
import { niceTicks, renderSvgPlot } from "./svg-plot.ts";

const figure = (signpost: number[] | null, opponent: number[] | null, target?: Figure["target"]): Figure => ({
  group: "g",
  name: "n",
  unit: "ms",
  better: "lower",
  signpost,
  opponent,
  opponentName: "kube-proxy",
  commands: [],
  ...(target === undefined ? {} : { target }),
});

describe("benchmark summary", () => {
  it("takes the median of odd and even sample counts, with the range", () => {
    expect(spreadOf([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, n: 3 });
    expect(spreadOf([4, 1, 2, 3])).toEqual({ median: 2.5, min: 1, max: 4, n: 4 });
    expect(spreadOf([])).toBeNull();
    expect(spreadOf(null)).toBeNull();
  });

  it("gives a contestant's share of the machine's ceiling, and judges a target on it", () => {
    const withCeiling = (signpost: number[], ceiling: number[] | null): Figure => ({
      ...figure(signpost, [10, 10, 10], { minRatio: 3, minCeilingShare: 0.5 }),
      better: "higher",
      ceiling: { name: "UDP ceiling", samples: ceiling },
    });
    expect(ceilingShareOf(withCeiling([40, 50, 60], [100, 100, 100]), [40, 50, 60])).toBe(0.5);
    expect(verdictOf(withCeiling([40, 50, 60], [100, 100, 100]))).toBe("met");
    expect(verdictOf(withCeiling([40, 45, 45], [100, 100, 100]))).toBe("missed");
    expect(verdictOf(withCeiling([40, 50, 60], null))).toBe("not measured");
    expect(ceilingShareOf(figure([1], [1]), [1])).toBeNull();
    expect(formatTarget(withCeiling([1], null))).toBe("≥ 3, signpost ≥ 50% of the ceiling");
  });

  it("gives the ratio signpost/opponent only when both were measured", () => {
    expect(ratioOf(figure([1, 1, 1], [2, 2, 2]))).toBe(0.5);
    expect(ratioOf(figure([1], null))).toBeNull();
    expect(ratioOf(figure([1], [0]))).toBeNull();
  });

  it("judges a target on the ratio, and says when it could not", () => {
    expect(verdictOf(figure([1], [2], { maxRatio: 0.5 }))).toBe("met");
    expect(verdictOf(figure([1.5], [2], { maxRatio: 0.5 }))).toBe("missed");
    expect(verdictOf(figure([1.1], [1], { minRatio: 1.2 }))).toBe("missed");
    expect(verdictOf(figure([1], null, { minRatio: 1.2 }))).toBe("not measured");
    expect(verdictOf(figure([1], [1]))).toBe("no target");
  });

  it("prints numbers and a missing column plainly", () => {
    expect(formatNumber(21234.4)).toBe("21,234");
    expect(formatNumber(0.01234)).toBe("0.012");
    expect(formatSpread(spreadOf([1, 2, 3]), "ms")).toBe("2.00 ms (1.00–3.00, n=3)");
    expect(formatSpread(null, "ms")).toBe("missing");
  });
});

describe("mergeCurves", () => {
  const curve = (slug: string, title: string, series: Record<string, [number, number][]>) => ({ slug, title, xLabel: "x", yLabel: "y", series: Object.entries(series).map(([name, points]) => ({ name, points })) });

  it("joins the series of curves with one slug, by name and in x order, and leaves the others alone", () => {
    const merged = mergeCurves([
      curve("cold", "Cold start", { signpost: [[10_000, 2.3]], "kube-proxy": [[10_000, 4.1]] }),
      curve("latency-1000", "Latency", { signpost: [[1, 0.5]] }),
      curve("cold", "Cold start, again", { signpost: [[1000, 0.5]], other: [[1000, 0.9]] }),
    ]);
    expect(merged.map((c) => c.slug)).toEqual(["cold", "latency-1000"]);
    expect(merged[0]?.title).toBe("Cold start");
    expect(merged[0]?.series).toEqual([
      { name: "signpost", points: [[1000, 0.5], [10_000, 2.3]] },
      { name: "kube-proxy", points: [[10_000, 4.1]] },
      { name: "other", points: [[1000, 0.9]] },
    ]);
    expect(merged[1]?.series).toEqual([{ name: "signpost", points: [[1, 0.5]] }]);
  });
});

describe("svg plot", () => {
  it("chooses round ticks that cover the data", () => {
    expect(niceTicks(0, 97)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(0, 0)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
  });

  it("draws one line per series with a legend, escaping text", () => {
    const svg = renderSvgPlot({
      slug: "x",
      title: "latency <p99>",
      xLabel: "rate",
      yLabel: "ms",
      series: [
        { name: "signpost", points: [[1, 2], [2, 3]] },
        { name: "CoreDNS & co", points: [[1, 3], [2, 5]] },
      ],
    });
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg).toContain("latency &lt;p99&gt;");
    expect(svg).toContain("CoreDNS &amp; co");
  });
});
