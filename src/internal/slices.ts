/**
 * Long work in slices: a reload of a large file walks 100k leaves, which would hold the
 * event loop for tens of milliseconds in one turn. Work that can stop between two steps
 * asks its {@link Slicer} at each step; once the current slice has run for its budget,
 * the slicer hands back a promise of the next turn of the event loop (`setImmediate`:
 * after pending I/O callbacks, so requests are answered between slices).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Asked between two steps: `undefined` to go on, or a promise to await first (the next
 * turn). `now` asks for the next turn whatever the slice has run: before work that may
 * be long, when the current turn has already done unknown work (a file parsed).
 */
export type Slicer = (now?: boolean) => Promise<void> | undefined;

/** Milliseconds of work per slice: well under the 20 ms a server's p99 notices. */
export const SLICE_MS = 5;

/**
 * A slicer whose first slice starts now. With `signal`, the work stops at the first turn
 * it takes after the signal aborted: the promise rejects with the signal's reason.
 */
export function slicer(budgetMs = SLICE_MS, signal?: AbortSignal): Slicer {
  let start = performance.now();
  return (now = false) => {
    if (!now && performance.now() - start < budgetMs) return undefined;
    return nextTurn().then(() => {
      signal?.throwIfAborted();
      start = performance.now();
    });
  };
}
