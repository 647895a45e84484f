// Timing with tinybench. The machine is noisy, so every comparison runs its tasks in
// alternating rounds (A, B, A, B, …) and keeps, per task, the median over the rounds of
// each round's median latency: a burst of noise hits one round of one task, not the ratio.
import { Bench, type Fn, type FnOptions } from 'tinybench';

/** One thing to time. */
export interface TimedTask {
  readonly name: string;
  readonly fn: Fn;
  readonly options?: FnOptions;
  /** Operations one call of `fn` performs (a loop of reads): latencies are divided by it. */
  readonly opsPerCall?: number;
}

/** Options of {@link timeTasks}. */
export interface TimeOptions {
  /** Rounds of the whole set of tasks. Default 3. */
  readonly rounds?: number;
  /** Time budget per task per round, in ms. Default 300. */
  readonly time?: number;
  /** Minimum calls per task per round. Default 10. */
  readonly iterations?: number;
  /** Warm-up budget per task per round, in ms. Default 100. */
  readonly warmupTime?: number;
  /** Minimum warm-up calls per task per round. Default 2. */
  readonly warmupIterations?: number;
}

/** Median latency per operation, in milliseconds, for each task (by name). */
export async function timeTasks(tasks: readonly TimedTask[], options: TimeOptions = {}): Promise<Map<string, number>> {
  const rounds = options.rounds ?? 3;
  const perRound = new Map<string, number[]>(tasks.map((task) => [task.name, []]));
  for (let round = 0; round < rounds; round++) {
    // Alternate the order too, so neither task always runs right after the other's garbage.
    const ordered = round % 2 === 0 ? tasks : [...tasks].reverse();
    for (const task of ordered) {
      const bench = new Bench({
        time: options.time ?? 300,
        iterations: options.iterations ?? 10,
        warmupTime: options.warmupTime ?? 100,
        warmupIterations: options.warmupIterations ?? 2,
        throws: true,
      });
      bench.add(task.name, task.fn, task.options);
      await bench.run();
      const result = bench.tasks[0]?.result;
      if (result?.state !== 'completed') throw new Error(`benchmark ${task.name} did not complete: ${result?.state ?? 'no result'}`);
      perRound.get(task.name)!.push(result.latency.p50 / (task.opsPerCall ?? 1));
    }
  }
  return new Map([...perRound].map(([name, values]) => [name, median(values)]));
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The value of `name` in `times`; throws when missing (a bug in a benchmark). */
export function timeOf(times: ReadonlyMap<string, number>, name: string): number {
  const value = times.get(name);
  if (value === undefined) throw new Error(`no time for ${name}`);
  return value;
}
