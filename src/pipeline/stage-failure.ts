/**
 * How a stage of the pipeline reports that it failed: a {@link ReloadFailure} naming the
 * stage (and the participant), thrown as a {@link StageFailure} so the transaction can
 * tell "this stage failed" from anything else.
 */
import type { FailurePhase, ReloadFailure } from '../errors.js';

/** Thrown by a stage: carries the failure to report. Internal; never leaves the transaction. */
export class StageFailure extends Error {
  /** What failed, where. */
  readonly failure: ReloadFailure;

  constructor(failure: ReloadFailure) {
    super(`stage ${failure.phase} failed`, { cause: failure.error });
    this.failure = failure;
  }
}

/**
 * Runs one stage of the store's own (not a participant's): whatever `run` throws
 * becomes a {@link StageFailure} of `phase`. Checks `signal` first, so an abort between
 * two stages stops the pipeline before the next one starts.
 */
export async function runStage<R>(phase: FailurePhase, signal: AbortSignal, run: () => R | Promise<R>): Promise<R> {
  try {
    signal.throwIfAborted();
    return await run();
  } catch (error) {
    throw new StageFailure({ participant: null, phase, error });
  }
}
