// What the runs collected, per contestant and scale point, before it is turned into figures.
import type { ChurnResult } from "./churn.ts";

export interface ScaleMeasurements {
  readonly coldStartSeconds: number[];
  /** The same daemon started again on its node with its rules in place, to a Service made while it was down (main.ts), one per run. */
  readonly restartSeconds: number[];
  /** signpost only: its own rule set restored into an empty namespace (restore-floor.ts), one per run. */
  readonly restoreFloorSeconds: number[];
  /** New connections per second through a ClusterIP, and straight to the backend pod, one per run (connect-rate.ts). */
  readonly connectPerSecond: number[];
  readonly directConnectPerSecond: number[];
  /** Programming latency samples in seconds, one list per run, so each percentile has one value per run. */
  readonly metricRuns: number[][];
  readonly probeRuns: number[][];
  readonly churn: ChurnResult[];
  readonly problems: string[];
  /** The coarsest cold-start sample's resolution, in seconds (cold-start.ts). */
  resolutionSeconds: number;
}

export interface ContestantMeasurements {
  readonly name: string;
  /** Why it could not be measured (further), when it could not. */
  failure: string | null;
  readonly command: string[];
  readonly byScale: Map<number, ScaleMeasurements>;
}

export function newContestantMeasurements(name: string): ContestantMeasurements {
  return { name, failure: null, command: [], byScale: new Map() };
}

export function atScale(m: ContestantMeasurements, scale: number): ScaleMeasurements {
  let s = m.byScale.get(scale);
  if (s === undefined) {
    s = emptyScale();
    m.byScale.set(scale, s);
  }
  return s;
}

export function emptyScale(): ScaleMeasurements {
  return { coldStartSeconds: [], restartSeconds: [], restoreFloorSeconds: [], connectPerSecond: [], directConnectPerSecond: [], metricRuns: [], probeRuns: [], churn: [], problems: [], resolutionSeconds: 0 };
}
