/**
 * Config text in any of the four formats, to plain JSON data, with the same hostile-input
 * rules for all: an object at the root, no duplicate keys, no keys that can reach a
 * prototype, a nesting limit that never becomes a stack overflow, finite numbers, and a
 * typed error for every failure. JSON and JSON5 are parsed by our own parsers; YAML and
 * TOML by optional peer dependencies loaded on first use (docs/formats.md).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ParseError, isTxConfigError } from '../../errors.js';
import { fastJsonObject } from '../fast-json-object.js';
import { TWO_TURN_TEXT, parseJsonObjectInTurns } from '../parse-json-object.js';
import type { ConfigFormat } from './config-format.js';
import { locateInYaml } from './locate-in-yaml.js';
import { locateInJson5, parseJson5Object } from './parse-json5-object.js';
import { SMOL_TOML, tomlToJson, tomlValueOf } from './parse-toml-object.js';
import { JS_YAML, parseYamlObject, yamlEventsOf } from './parse-yaml-object.js';
import { parserLoader } from './parser-loader.js';
import { causeWithoutText } from './parser-cause.js';
import { positionAt, type TextPosition } from '../text-position.js';

/** Options of {@link parseConfigFormat}. */
export interface ParseConfigFormatOptions {
  /** The format `text` is written in. */
  readonly format: ConfigFormat;
  /** Names the text in errors (`error.path`): the file. */
  readonly source: string;
  /** Containers (objects/mappings/tables and arrays) that may be open at once; the root counts 1. */
  readonly maxDepth: number;
  /** Stops the parse at its next turn; the promise then rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
}

/**
 * Parses config text written in `format` into plain JSON data: plain objects (built
 * without running any prototype setter), arrays, strings, finite numbers, booleans, null.
 *
 * `text` is already decoded (strict UTF-8) and without its BOM. JSON is read exactly as
 * `readConfigFile` reads it. YAML needs the package `js-yaml` (5 or later) and TOML the
 * package `smol-toml`, imported on the first read of such a file.
 *
 * @throws {ParseError} `ERR_PARSE` with `line` and `column` where known (1, 1 otherwise):
 *   not the format, empty, root not an object, duplicate key, a number JSON cannot hold
 *   (`Infinity`, `NaN`, YAML `.inf`/`.nan`, TOML `inf`/`nan`, a YAML or TOML integer past
 *   2^53 - 1), nesting deeper than `maxDepth`, a YAML tag outside the core schema, YAML
 *   aliases that add too many values; `cause` is the parser's error reduced to its name
 *   and reason (js-yaml and smol-toml quote the file's lines, which may hold secrets).
 * @throws {UnsafeKeyError} `ERR_UNSAFE_KEY`: a `__proto__`, `constructor` or `prototype`
 *   key, with its position except in TOML.
 * @throws {MissingDependencyError} `ERR_MISSING_DEPENDENCY`: `js-yaml` or `smol-toml` is
 *   not installed (or js-yaml is older than 5).
 * @throws `signal.reason` when `signal` aborts.
 * @example
 * ```ts
 * const text = withoutBom(decodeConfigBytes(bytes, path));
 * const config = await parseConfigFormat(text, { format: formatOfPath(path) ?? 'json', source: path, maxDepth: 256 });
 * ```
 */
export async function parseConfigFormat(text: string, options: ParseConfigFormatOptions): Promise<Record<string, unknown>> {
  const { format, source, maxDepth, signal } = options;
  signal?.throwIfAborted();
  try {
    switch (format) {
      case 'json':
        return await parseJsonObjectInTurns(text, { source, maxDepth });
      case 'json5':
        // A JSON5 file that happens to be JSON (no comment, every key quoted) takes the
        // JSON fast path, which only ever accepts what the full parser would.
        return fastJsonObject(text, maxDepth) ?? parseJson5Object(text, { source, maxDepth });
      case 'yaml': {
        const yaml = await parserLoader.load(JS_YAML);
        const events = yamlEventsOf(yaml, text, { source, maxDepth });
        await turnIfLong(text, signal);
        return parseYamlObject(yaml, text, events, { source, maxDepth });
      }
      case 'toml': {
        const toml = await parserLoader.load(SMOL_TOML);
        const parsed = tomlValueOf(toml, text, { source, maxDepth });
        await turnIfLong(text, signal);
        return tomlToJson(parsed, { source, maxDepth });
      }
      default:
        return unknownFormat(format, source);
    }
  } catch (error) {
    throw typedError(error, source, signal);
  }
}

/**
 * The 1-based line and column (in characters) where the value at `keys` is written in a
 * text of `format` that {@link parseConfigFormat} accepted: the value's own position, or
 * its key's when the value starts on lines of its own (a YAML block mapping or sequence,
 * a block scalar, an empty value). `keys` are object keys and array indices as decimal
 * strings; `[]` is the root. `undefined` when the text does not hold the path, for TOML
 * (its parser keeps no positions; the file is named all the same), and for YAML when
 * js-yaml has not been loaded. Synchronous; never throws.
 */
export function locateInText(text: string, format: ConfigFormat, keys: readonly string[]): TextPosition | undefined {
  let offset: number | undefined;
  if (format === 'json' || format === 'json5') {
    // JSON is JSON5 too: one scanner finds values in both.
    offset = locateInJson5(text, keys);
  } else if (format === 'yaml') {
    const yaml = parserLoader.loaded(JS_YAML);
    offset = yaml === undefined ? undefined : locateInYaml(yaml, text, keys);
  }
  return offset === undefined ? undefined : positionAt(text, offset);
}

/** Lets the event loop run between a long text's parse and its checks; then honours the signal. */
async function turnIfLong(text: string, signal: AbortSignal | undefined): Promise<void> {
  if (text.length <= TWO_TURN_TEXT) return;
  await nextTurn();
  signal?.throwIfAborted();
}

function unknownFormat(format: never, source: string): never {
  throw new ParseError(source, `unknown config format ${JSON.stringify(format)}`, 1, 1);
}

/**
 * Every failure as a typed error: ours as they are, the abort as its reason, a stack
 * overflow inside a parser (nesting deeper than its own limit) and anything else a
 * parser throws as a {@link ParseError}, its cause without the text it may quote.
 */
function typedError(error: unknown, source: string, signal: AbortSignal | undefined): unknown {
  if (isTxConfigError(error)) return error;
  if (signal?.aborted === true && error === signal.reason) return error;
  if (error instanceof RangeError) return new ParseError(source, 'nested too deeply for the parser', 1, 1, { cause: error });
  // Its message may quote the text: only its name goes on.
  const name = error instanceof Error ? error.name : typeof error;
  return new ParseError(source, `the parser failed (${name})`, 1, 1, { cause: causeWithoutText(error, 'the parser failed') });
}
