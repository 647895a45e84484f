/**
 * Stage 1 of a reload: the candidate, from the live config and the changes staged on
 * the transaction (`set` a whole new value, `update` with an immer recipe), applied in
 * order. The candidate may still be anything: validation decides.
 */
import type { Draft, Immer } from 'immer';
import type { Origins } from '../origin.js';
import { ConfigProvenance } from './config-provenance.js';

/**
 * An immer recipe: edit the draft in place, or return a whole replacement (immer's rule).
 */
// eslint-disable-next-line @typescript-eslint/no-invalid-void-type -- immer's recipe contract: mutate and return nothing, or return a value
export type Recipe<T> = (draft: Draft<T>) => void | T;

/**
 * One change staged on a transaction. A `set` names where its value came from: a
 * source's reading (`layer` is the source's kind, `origins` what it told), or `reload`.
 */
export type StagedChange<T> =
  | { readonly kind: 'set'; readonly value: unknown; readonly layer: string; readonly origins?: Origins | undefined }
  | { readonly kind: 'update'; readonly recipe: Recipe<T> };

/** The candidate, and where it may differ from the live config. */
export interface StagedInput {
  readonly candidate: unknown;
  /**
   * When every change was a recipe applied to the live config: the paths immer reports
   * the recipes wrote (a member set, added or deleted; an array changed in place), in the
   * candidate. Everywhere else the candidate holds the live config's own nodes, and every
   * object above such a path is a fresh copy immer made (never the caller's). `undefined`
   * when a whole value was set or there is no live config: it may differ anywhere.
   */
  readonly written: readonly (readonly (string | number)[])[] | undefined;
}

/**
 * Applies the staged changes to `live` (the live config, `undefined` at cold start).
 * A recipe that throws makes this throw; `immer` is the store's own instance, with
 * auto-freeze off, so that objects of the caller's a recipe touches are never frozen.
 */
export function stageInput<T>(live: unknown, changes: readonly StagedChange<T>[], immer: Immer): StagedInput {
  let candidate = live;
  let written: (readonly (string | number)[])[] | undefined = live === undefined ? undefined : [];
  for (const change of changes) {
    if (change.kind === 'set') {
      candidate = change.value;
      written = undefined;
    } else if (written === undefined) {
      candidate = immer.produce(candidate, change.recipe as (draft: unknown) => void);
    } else {
      const paths = written;
      candidate = immer.produce(candidate, change.recipe as (draft: unknown) => void, (patches) => {
        for (const patch of patches) paths.push(patch.path);
      });
    }
  }
  return { candidate, written };
}

/**
 * The provenance of the candidate: the last whole value's (a reading's origins, or its
 * layer), with the paths recipes wrote after it given to `update`; without a whole value,
 * `live`'s with those paths.
 */
export function stagedProvenance<T>(live: ConfigProvenance | undefined, changes: readonly StagedChange<T>[], written: StagedInput['written']): ConfigProvenance {
  let provenance = live ?? ConfigProvenance.read('initial');
  let updatedSinceSet = false;
  for (const change of changes) {
    if (change.kind === 'set') {
      provenance = ConfigProvenance.read(change.layer, change.origins);
      updatedSinceSet = false;
    } else updatedSinceSet = true;
  }
  // Recipes after a whole value report no paths (the value may differ anywhere): theirs is the whole.
  return updatedSinceSet ? provenance.updated(written) : provenance;
}
