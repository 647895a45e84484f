/**
 * The engine under `layered()` and `directory()`: readings merged lowest first (objects
 * merge, anything else replaces), conflicts found where two readings set one path, and
 * the provenance of any path found by asking each reading, highest first. Internal to
 * the layers.
 */
import { ConflictError } from '../../errors.js';
import { parsePointer, toPointer } from '../../json/json-pointer.js';
import { isPlainObject, setMember } from '../../json/plain-object.js';
import type { LayerValue, Origin, Origins, Provenance } from '../../origin.js';
import type { SourceReading } from '../../store/config-source.js';
import { valueAt } from '../../json/value-at.js';

/** One reading of a stack, with what the merge needs to know of its layer. */
export interface StackEntry {
  /** The layer's kind, for origins the reading does not give (`file`, `env`, a source's name). */
  readonly layer: string;
  /** What the layer read; its value is a plain object. */
  readonly reading: SourceReading;
  /** A layer meant to be overridden (`defaults()`): never in conflict. */
  readonly exempt: boolean;
}

/** How a stack treats a path that two readings set. */
export type ConflictPolicy = 'override' | 'reject';

/**
 * The readings merged, lowest first: objects merge member by member, anything else (a
 * scalar, an array, an object over a scalar) replaces what is below it. Only the objects
 * on a path that two readings share are new; every other node is the reading's own.
 *
 * @throws {ConflictError} `ERR_CONFLICT` with `reject`, when two readings that are not
 *   exempt set the same path (a scalar or array in both, or an object in one and not in the other)
 */
export function mergeStack(entries: readonly StackEntry[], conflicts: ConflictPolicy): Record<string, unknown> {
  let merged: Record<string, unknown> = {};
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index] as StackEntry;
    const onOverlap =
      conflicts === 'reject' && !entry.exempt
        ? (keys: readonly string[]): void => {
            checkOverlap(entries, index, keys);
          }
        : undefined;
    merged = mergeInto(merged, entry.reading.value as Record<string, unknown>, [], onOverlap);
  }
  return merged;
}

/** `lower` and `higher` merged into a new object (neither is changed). */
function mergeInto(lower: Record<string, unknown>, higher: Record<string, unknown>, keys: string[], onOverlap: ((keys: readonly string[]) => void) | undefined): Record<string, unknown> {
  if (Object.keys(lower).length === 0) return higher;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(lower)) setMember(out, key, lower[key]);
  for (const key of Object.keys(higher)) {
    const value = higher[key];
    if (!Object.hasOwn(out, key)) {
      setMember(out, key, value);
      continue;
    }
    const below = out[key];
    keys.push(key);
    if (isPlainObject(below) && isPlainObject(value)) setMember(out, key, mergeInto(below, value, keys, onOverlap));
    else {
      onOverlap?.(keys);
      setMember(out, key, value);
    }
    keys.pop();
  }
  return out;
}

/**
 * Called where entry `index` replaces a value below it at `keys`: a conflict unless every
 * reading below that sets the path is exempt.
 * @throws {ConflictError} naming the highest such reading below and this one
 */
function checkOverlap(entries: readonly StackEntry[], index: number, keys: readonly string[]): void {
  const pointer = toPointer(keys);
  const higher = entries[index] as StackEntry;
  if (isDefaultAt(higher, pointer)) return;
  for (let below = index - 1; below >= 0; below--) {
    const entry = entries[below] as StackEntry;
    const at = valueAt(entry.reading.value, keys);
    if (at.kind === 'absent') continue;
    if (entry.exempt || isDefaultAt(entry, pointer)) continue;
    throw new ConflictError(pointer, sideOf(entry, pointer), sideOf(higher, pointer));
  }
}

/**
 * True when the entry's value at `pointer` is a default: the entry is `defaults()`, or a
 * nested `layered()` whose value there came from its own `defaults()`. Asked only where
 * two readings overlap under `conflicts: 'reject'`.
 */
function isDefaultAt(entry: StackEntry, pointer: string): boolean {
  return entry.exempt || entry.reading.origins?.explain(pointer)?.layer === 'defaults';
}

function sideOf(entry: StackEntry, pointer: string): Omit<LayerValue, 'value'> {
  const provenance = entry.reading.origins?.explain(pointer);
  return { layer: provenance?.layer ?? entry.layer, origin: provenance?.origin ?? {} };
}

/**
 * The origins of a merged stack: for a path, the highest reading that holds it wins, and
 * the lower ones that hold it too are shadowed, down to the first one cut off by a value
 * that replaced the path whole. Texts are those of the readings that no higher reading
 * replaced.
 */
export function stackOrigins(entries: readonly StackEntry[]): Origins {
  return {
    explain: (pointer) => explainStack(entries, pointer),
    texts: survivingTexts(entries),
  };
}

function explainStack(entries: readonly StackEntry[], pointer: string): Provenance | undefined {
  const keys = parsePointer(pointer);
  if (keys === undefined) return undefined;
  for (let index = entries.length - 1; index >= 0; index--) {
    const entry = entries[index] as StackEntry;
    const at = valueAt(entry.reading.value, keys);
    if (at.kind === 'absent') continue;
    // Cut off by a value above the path: a text there (JSON for an object) may still
    // answer for it; either way nothing lower reaches the path.
    const provenance = entry.reading.origins?.explain(pointer);
    if (at.kind === 'cut' && provenance === undefined) return undefined;
    // Only the winner is looked up now; what it shadows, when read. Every reload asks for
    // the winner of each text (to name its variable or flag), and a file below it would
    // find its own position by scanning its whole text each time.
    return withShadowedWhenRead(provenance?.layer ?? entry.layer, provenance?.origin ?? {}, () => [
      ...(provenance?.shadowed ?? []),
      // Below a JSON text that replaced an object above the path too: what it replaced.
      ...valuesBelow(entries, index, keys, pointer),
    ]);
  }
  return undefined;
}

// The member of a provenance of withShadowedWhenRead that finds its shadowed values.
const FIND_SHADOWED = Symbol('findShadowed');

/**
 * A provenance whose `shadowed` is found each time it is read. One getter serves every
 * such object and the work is the object's own hidden member: a getter written in an
 * object literal is a new closure each time, which gives each object a hidden class of
 * its own holding that closure, and through it the readings, in old space until a full
 * collection (a refresh of 20 variables over a 10k-leaf file then promoted about 8 times
 * the bytes, the parsed file among them, and ran a full collection every 25 reloads).
 */
function withShadowedWhenRead(layer: string, origin: Origin, find: () => readonly LayerValue[]): Provenance {
  const provenance = { layer, origin };
  Object.defineProperty(provenance, FIND_SHADOWED, { value: find });
  Object.defineProperty(provenance, 'shadowed', { get: readShadowed, enumerable: true });
  // Has `shadowed` now, as the accessor defined just above.
  return provenance as Provenance;
}

function readShadowed(this: { readonly [FIND_SHADOWED]: () => readonly LayerValue[] }): readonly LayerValue[] {
  return this[FIND_SHADOWED]();
}

/** What the readings below entry `above` set at the path, highest first, down to the first one cut off above it. */
function valuesBelow(entries: readonly StackEntry[], above: number, keys: readonly string[], pointer: string): LayerValue[] {
  const found: LayerValue[] = [];
  for (let index = above - 1; index >= 0; index--) {
    const entry = entries[index] as StackEntry;
    const at = valueAt(entry.reading.value, keys);
    if (at.kind === 'absent') continue;
    const provenance = entry.reading.origins?.explain(pointer);
    if (at.kind === 'cut' && provenance === undefined) break;
    found.push({ layer: provenance?.layer ?? entry.layer, origin: provenance?.origin ?? {}, value: at.kind === 'found' ? at.value : undefined });
    if (provenance !== undefined) found.push(...provenance.shadowed);
    if (at.kind === 'cut') break;
  }
  return found;
}

function survivingTexts(entries: readonly StackEntry[]): string[] {
  const texts: string[] = [];
  entries.forEach((entry, index) => {
    for (const pointer of entry.reading.origins?.texts ?? []) {
      const keys = parsePointer(pointer);
      if (keys === undefined) continue;
      if (entries.slice(index + 1).every((higher) => valueAt(higher.reading.value, keys).kind === 'absent')) texts.push(pointer);
    }
  });
  return texts;
}
