/**
 * Stage 1 of a reload: the candidate, from the live config and the changes staged on
 * the transaction (`set` a whole new value, `update` with an immer recipe), applied in
 * order. The candidate may still be anything: validation decides.
 */
import type { Draft, Immer } from 'immer';

/**
 * An immer recipe: edit the draft in place, or return a whole replacement (immer's rule).
 */
// eslint-disable-next-line @typescript-eslint/no-invalid-void-type -- immer's recipe contract: mutate and return nothing, or return a value
export type Recipe<T> = (draft: Draft<T>) => void | T;

/** One change staged on a transaction. */
export type StagedChange<T> = { readonly kind: 'set'; readonly value: unknown } | { readonly kind: 'update'; readonly recipe: Recipe<T> };

/**
 * Applies the staged changes to `live` (the live config, `undefined` at cold start).
 * A recipe that throws makes this throw; `immer` is the store's own instance, with
 * auto-freeze off, so that objects of the caller's a recipe touches are never frozen.
 */
export function stageInput<T>(live: unknown, changes: readonly StagedChange<T>[], immer: Immer): unknown {
  let candidate = live;
  for (const change of changes) {
    if (change.kind === 'set') candidate = change.value;
    else candidate = immer.produce(candidate, change.recipe as (draft: unknown) => void);
  }
  return candidate;
}
