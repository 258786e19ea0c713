// What the runs collected, per contestant and scale point, before it is turned into figures.
import type { ChurnResult } from "./churn.ts";

export interface ScaleMeasurements {
  readonly coldStartSeconds: number[];
  readonly metricSeconds: number[];
  readonly probeSeconds: number[];
  readonly churn: ChurnResult[];
  readonly problems: string[];
  /** The longest poll of the Service list during cold starts (the resolution), in seconds. */
  pollSeconds: number;
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
    s = { coldStartSeconds: [], metricSeconds: [], probeSeconds: [], churn: [], problems: [], pollSeconds: 0 };
    m.byScale.set(scale, s);
  }
  return s;
}
