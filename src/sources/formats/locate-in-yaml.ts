/**
 * Finding where a value is written in a YAML text, for `explain`: the text's events are
 * read again (js-yaml is loaded: the text was parsed with it) and walked along the path,
 * through aliases and merge keys the way the value was built.
 *
 * Internal: parse-config-format.ts's locateInText is the entry point.
 */
import { ALIAS, FLOW, MAPPING, PLAIN, POP, SCALAR, SEQUENCE, nodeStart, type YamlEvent, type YamlEvents } from './yaml-events.js';

/** A text's events, with what a walk along a path needs. */
interface EventIndex {
  readonly events: readonly YamlEvent[];
  /** For each node's first event: the index of its last one (its POP, or itself). */
  readonly ends: Int32Array;
  /** For each alias event: the index of the node it refers to, or -1. */
  readonly targets: Int32Array;
  /** The index of the document's root node, or -1. */
  readonly root: number;
}

/** `explain` asks about one file many times in a row: its events are indexed once. */
let cached: { readonly text: string; readonly index: EventIndex } | undefined;

/**
 * The offset where the value at `keys` is written in `text` — or its key's, when the value
 * starts on lines of its own (a block collection, a block scalar, an empty value) — or
 * `undefined` when the text does not hold it. Never throws.
 */
export function locateInYaml(yaml: YamlEvents, text: string, keys: readonly string[]): number | undefined {
  try {
    const index = cached?.text === text ? cached.index : indexEvents(text, yaml.parseEvents(text, { maxDepth: Number.MAX_SAFE_INTEGER }));
    cached = { text, index };
    return new Walk(yaml, text, index).locate(keys);
  } catch {
    // A text that does not parse (or exhausts the stack) holds nothing to point at.
    return undefined;
  }
}

function indexEvents(text: string, events: readonly YamlEvent[]): EventIndex {
  const ends = new Int32Array(events.length);
  const targets = new Int32Array(events.length).fill(-1);
  // An alias refers to the latest node before it with that anchor (YAML 1.2.2 §7.1).
  const anchors = new Map<string, number>();
  const open: number[] = [];
  let root = -1;
  for (let i = 0; i < events.length; i++) {
    const event = events[i] as YamlEvent;
    if (event.type === POP) {
      const start = open.pop();
      if (start !== undefined) ends[start] = i;
      continue;
    }
    if (event.type !== SCALAR && event.type !== MAPPING && event.type !== SEQUENCE && event.type !== ALIAS) continue;
    if (root < 0) root = i;
    ends[i] = i;
    if (event.type === ALIAS) {
      targets[i] = anchors.get(text.slice(event.anchorStart, event.anchorEnd)) ?? -1;
      continue;
    }
    if (event.anchorStart >= 0) anchors.set(text.slice(event.anchorStart, event.anchorEnd), i);
    if (event.type !== SCALAR) open.push(i);
  }
  return { events, ends, targets, root };
}

class Walk {
  readonly #yaml: YamlEvents;
  readonly #text: string;
  readonly #index: EventIndex;
  /** Alias hops left: a text whose alias refers to its own container cannot loop forever. */
  #hops: number;

  constructor(yaml: YamlEvents, text: string, index: EventIndex) {
    this.#yaml = yaml;
    this.#text = text;
    this.#index = index;
    this.#hops = index.events.length;
  }

  locate(keys: readonly string[]): number | undefined {
    let node = this.#index.root;
    // The offset of the key the current node is the value of, if it is a mapping's value.
    let keyAt = -1;
    for (const key of keys) {
      const found = this.#child(node, key);
      if (found === undefined) return undefined;
      [node, keyAt] = found;
    }
    if (node < 0) return undefined;
    const event = this.#index.events[node] as YamlEvent;
    const start = nodeStart(event);
    // A value that starts on the line of its key is pointed at; one that starts on lines
    // of its own (or has no text at all) is pointed at by its key.
    const inline =
      event.type === ALIAS ||
      (event.type === SCALAR && event.valueStart >= 0 && event.style <= 3 && event.style >= PLAIN) ||
      ((event.type === MAPPING || event.type === SEQUENCE) && event.style === FLOW);
    if (!inline && keyAt >= 0) return keyAt;
    return start >= 0 ? start : keyAt >= 0 ? keyAt : undefined;
  }

  /** The value node under `node` at `key`, with its key's offset (-1 in a sequence). */
  #child(node: number, key: string): [number, number] | undefined {
    const container = this.#resolve(node);
    if (container < 0) return undefined;
    const event = this.#index.events[container] as YamlEvent;
    if (event.type === SEQUENCE) {
      if (!/^(?:0|[1-9]\d*)$/.test(key)) return undefined;
      let item = container + 1;
      for (let position = 0; item < this.#end(container); position++) {
        if (position === Number(key)) return [item, -1];
        item = this.#end(item) + 1;
      }
      return undefined;
    }
    if (event.type !== MAPPING) return undefined;
    const merges: number[] = [];
    for (let entry = container + 1; entry < this.#end(container); ) {
      const keyEvent = this.#index.events[entry] as YamlEvent;
      const value = this.#end(entry) + 1;
      if (keyEvent.type === SCALAR) {
        const written = this.#yaml.getScalarValue(this.#text, keyEvent);
        const isMerge = written === '<<' && keyEvent.style === PLAIN && keyEvent.tagStart < 0;
        if (isMerge) merges.push(value);
        else if (written === key) return [value, nodeStart(keyEvent)];
      }
      entry = this.#end(value) + 1;
    }
    // Not a key of its own: the first merged mapping that has it gave it (docs/formats.md).
    for (const merge of merges) {
      const source = this.#resolve(merge);
      const sources = this.#index.events[source]?.type === SEQUENCE ? this.#items(source) : [merge];
      for (const mapping of sources) {
        const found = this.#child(mapping, key);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  }

  /** The item nodes of a sequence. */
  #items(sequence: number): number[] {
    const items: number[] = [];
    for (let item = sequence + 1; item < this.#end(sequence); item = this.#end(item) + 1) items.push(item);
    return items;
  }

  /** `node`, or the node it refers to when it is an alias; -1 when there is none. */
  #resolve(node: number): number {
    let current = node;
    while (current >= 0 && this.#index.events[current]?.type === ALIAS) {
      if (--this.#hops < 0) return -1;
      current = this.#index.targets[current] ?? -1;
    }
    return current;
  }

  #end(node: number): number {
    return this.#index.ends[node] ?? node;
  }
}
