// A figure is one measured number of txconfig next to its baseline, measured in the same
// run. The ratio is what holds on a noisy machine; the absolute value is for reference.

/** How a figure is judged: `ratio` (value / baseline) or `value`, against a limit. */
export interface Target {
  readonly of: 'ratio' | 'value';
  readonly op: '<=' | '<' | '>=';
  readonly limit: number;
}

/** What a benchmark measured, before the ratio and the verdict are computed. */
export interface Measured {
  /** Stable key of the row, to compare runs across commits (`reload.file.vs-sorted`). */
  readonly id: string;
  /** The question it answers (1-5: issue 6; 6 and 7: issue 13; 8 and 9: issue 14). */
  readonly question: number;
  readonly name: string;
  /** txconfig's figure. */
  readonly value: number;
  readonly unit: string;
  /** What it is compared with. */
  readonly baseline: string;
  /** The baseline's figure, same unit, same run. */
  readonly baselineValue: number;
  readonly target?: Target;
}

/** A measured figure with its ratio and verdict: a row of the table and of the JSON file. */
export interface Figure extends Omit<Measured, 'target'> {
  /** value / baselineValue. */
  readonly ratio: number;
  /** The target as text (`ratio <= 0.5`), or null when the figure is reported only. */
  readonly target: string | null;
  /** Whether the target was met, computed from the figures; null without a target. */
  readonly met: boolean | null;
}

/** Computes the ratio and, when there is a target, whether it was met. */
export function figure(measured: Measured): Figure {
  const { target, ...rest } = measured;
  const ratio = measured.baselineValue === 0 ? Number.POSITIVE_INFINITY : measured.value / measured.baselineValue;
  if (target === undefined) return { ...rest, ratio, target: null, met: null };
  const subject = target.of === 'ratio' ? ratio : measured.value;
  const met = target.op === '<=' ? subject <= target.limit : target.op === '<' ? subject < target.limit : subject >= target.limit;
  return { ...rest, ratio, target: `${target.of} ${target.op} ${target.limit}`, met };
}
