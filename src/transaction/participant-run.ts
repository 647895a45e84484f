/**
 * The participants' stage of a reload, and what their hooks do after it: prepare each
 * participant in registration order, then either run every commit hook (in the swap's
 * turn) or roll back every prepared participant in reverse order.
 */
import type { ReloadFailure } from '../errors.js';
import { log } from '../internal/debug.js';
import { isThenable } from '../internal/is-thenable.js';
import { setMember } from '../json/plain-object.js';
import type { Participant, PrepareContext, Prepared } from './participant.js';
import { StageFailure } from '../pipeline/stage-failure.js';

interface PreparedParticipant {
  readonly name: string;
  readonly prepared: Prepared;
}

/** The participants of one transaction, from their prepare to their commit or rollback. */
export class ParticipantRun<T> {
  // Prepared participants in registration order; rolled back in reverse. Emptied by the
  // first commit or rollback, so no hook ever runs twice.
  #prepared: PreparedParticipant[] = [];
  // Derived state by participant name. Members are defined, never assigned: a participant
  // named `__proto__` gets an own member, and no name can reach the prototype.
  readonly #derived: Record<string, unknown> = {};

  /** Derived state by participant name, each deeply frozen by its participant's prepare. */
  get derived(): Readonly<Record<string, unknown>> {
    return this.#derived;
  }

  /**
   * Prepares every participant in order, each with the context `contextFor` builds.
   * `freeze` deep-freezes what a participant derived. Checks `signal` before and after
   * each prepare.
   * @throws {StageFailure} phase `prepare`, naming the participant; those prepared
   *   before it stay prepared, for the caller to {@link rollback}
   */
  async prepare(participants: readonly Participant<T>[], contextFor: (participant: Participant<T>) => PrepareContext<T>, signal: AbortSignal, freeze: <V>(value: V) => V): Promise<void> {
    for (const participant of participants) {
      try {
        signal.throwIfAborted();
        const prepared = await participant.prepare(contextFor(participant));
        this.#prepared.push({ name: participant.name, prepared });
        if (prepared.derived !== undefined) setMember(this.#derived, participant.name, freeze(prepared.derived));
        signal.throwIfAborted();
      } catch (error) {
        throw new StageFailure({ participant: participant.name, phase: 'prepare', error });
      }
    }
  }

  /**
   * Runs every commit hook, in registration order, synchronously. A hook that throws does
   * not stop the others; nor does one that returns a promise, which is a failure too:
   * commit must finish in the swap's turn, and a promise says its work is not done (its
   * rejection, if any, is logged, never left unhandled).
   * @returns the hooks that failed
   */
  commit(): ReloadFailure[] {
    const failures: ReloadFailure[] = [];
    for (const { name, prepared } of this.#take()) {
      try {
        const returned: unknown = prepared.commit?.();
        if (isThenable(returned)) {
          failures.push({ participant: name, phase: 'commit', error: new TypeError(`commit hook of ${name} returned a promise: commit must be synchronous`) });
          returned.then(undefined, (error: unknown) => {
            log.transaction('the commit hook of %s rejected after the swap: %O', name, error);
          });
        }
      } catch (error) {
        failures.push({ participant: name, phase: 'commit', error });
      }
    }
    return failures;
  }

  /**
   * Rolls back every prepared participant, in reverse order. A hook that throws or
   * rejects does not stop the others.
   * @returns the hooks that failed
   */
  async rollback(): Promise<ReloadFailure[]> {
    const failures: ReloadFailure[] = [];
    for (const { name, prepared } of this.#take().reverse()) {
      try {
        await prepared.rollback?.();
      } catch (error) {
        failures.push({ participant: name, phase: 'rollback', error });
      }
    }
    return failures;
  }

  #take(): PreparedParticipant[] {
    const prepared = this.#prepared;
    this.#prepared = [];
    return prepared;
  }
}

