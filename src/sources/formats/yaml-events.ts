/**
 * The part of js-yaml (5 or later) the YAML reader uses: `parseEvents`, which reads a
 * text into a flat list of events that point into it by offset, and `getScalarValue`.
 * Described here rather than imported, so that txconfig's types never name an optional
 * package, and checked when the package is loaded.
 *
 * Internal to the YAML reader.
 */

// js-yaml's EVENT_ID, SCALAR_STYLE and COLLECTION_STYLE, checked on load.
export const DOCUMENT = 1;
export const SEQUENCE = 2;
export const MAPPING = 3;
export const SCALAR = 4;
export const ALIAS = 5;
export const POP = 6;
export const PLAIN = 1;
export const SINGLE_QUOTED = 2;
export const DOUBLE_QUOTED = 3;
export const FLOW = 2;

/** A `%YAML` or `%TAG` directive. */
export type YamlDirective = { readonly kind: 'yaml'; readonly version: string } | { readonly kind: 'tag'; readonly handle: string; readonly prefix: string };

/** The start of a document. */
export interface DocumentEvent {
  readonly type: typeof DOCUMENT;
  readonly directives: readonly YamlDirective[];
}

/** The start of a mapping or a sequence. Offsets are -1 when absent. */
export interface CollectionEvent {
  readonly type: typeof MAPPING | typeof SEQUENCE;
  readonly start: number;
  readonly anchorStart: number;
  readonly anchorEnd: number;
  readonly tagStart: number;
  readonly tagEnd: number;
  readonly style: number;
}

/**
 * A scalar. `valueStart` is -1 for an empty one, inside the quotes of a quoted one, and
 * at the start of the first content line of a block one, whose `indent` is the column
 * its text starts at (-1 for the other styles).
 */
export interface ScalarEvent {
  readonly type: typeof SCALAR;
  readonly valueStart: number;
  readonly valueEnd: number;
  readonly anchorStart: number;
  readonly anchorEnd: number;
  readonly tagStart: number;
  readonly tagEnd: number;
  readonly style: number;
  readonly indent: number;
}

/** An alias; the offsets are those of its name, after the `*`. */
export interface AliasEvent {
  readonly type: typeof ALIAS;
  readonly anchorStart: number;
  readonly anchorEnd: number;
}

/** The end of the innermost open collection or document. */
export interface PopEvent {
  readonly type: typeof POP;
}

/** One event of js-yaml's `parseEvents`. */
export type YamlEvent = DocumentEvent | CollectionEvent | ScalarEvent | AliasEvent | PopEvent;

/** The functions of js-yaml the reader calls. */
export interface YamlEvents {
  parseEvents(input: string, options: { readonly maxDepth: number }): readonly YamlEvent[];
  getScalarValue(input: string, scalar: ScalarEvent): string;
}

/** `module` as {@link YamlEvents}, or why it is not one (js-yaml 4 has no events). */
export function checkYamlEvents(module: unknown): YamlEvents | string {
  const candidate = module as Partial<YamlEvents> & { EVENT_ID?: Record<string, unknown>; SCALAR_STYLE?: Record<string, unknown> };
  if (typeof candidate.parseEvents !== 'function' || typeof candidate.getScalarValue !== 'function') {
    return 'the installed js-yaml has no parseEvents and getScalarValue: txconfig needs js-yaml 5 or later';
  }
  const ids = candidate.EVENT_ID;
  const styles = candidate.SCALAR_STYLE;
  const expected = [ids?.DOCUMENT, ids?.SEQUENCE, ids?.MAPPING, ids?.SCALAR, ids?.ALIAS, ids?.POP, styles?.PLAIN, styles?.SINGLE_QUOTED, styles?.DOUBLE_QUOTED];
  if (expected.join() !== [DOCUMENT, SEQUENCE, MAPPING, SCALAR, ALIAS, POP, PLAIN, SINGLE_QUOTED, DOUBLE_QUOTED].join()) {
    return "the installed js-yaml's event codes are not the ones txconfig reads (js-yaml 5)";
  }
  return candidate as YamlEvents;
}

/**
 * Where the node of `event` starts in the text: its anchor `&`, its tag, or its value
 * (a quoted scalar's opening quote); -1 for an empty scalar or an event without a node.
 */
export function nodeStart(event: YamlEvent): number {
  switch (event.type) {
    case SCALAR:
    case MAPPING:
    case SEQUENCE: {
      // The first of the anchor's `&`, the tag and the value that is there (called for
      // every scalar: no allocation).
      let start = event.type === SCALAR ? quotedStart(event) : event.start;
      if (event.tagStart >= 0 && (start < 0 || event.tagStart < start)) start = event.tagStart;
      if (event.anchorStart > 0 && (start < 0 || event.anchorStart - 1 < start)) start = event.anchorStart - 1;
      return start;
    }
    case ALIAS:
      return event.anchorStart - 1;
    default:
      return -1;
  }
}

/** Where a scalar's value starts: its opening quote, its first character, or -1 when empty. */
function quotedStart(event: ScalarEvent): number {
  if (event.valueStart < 0) return -1;
  if (event.style === SINGLE_QUOTED || event.style === DOUBLE_QUOTED) return event.valueStart - 1;
  return event.style > DOUBLE_QUOTED && event.indent > 0 ? event.valueStart + event.indent : event.valueStart;
}
