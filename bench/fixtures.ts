// The shared inputs of the benchmarks: a large config (10,000 leaves), its JSON Schema,
// and the careful naive reload a user would write instead of using txconfig.
import { createHash } from 'node:crypto';
import { Ajv, type ValidateFunction } from 'ajv';

/** Services in the large config; each has {@link LEAVES_PER_SERVICE} leaves. */
export const SERVICES = 200;
/** Leaves of one service: 5 scalars, 5 tags, 5 limits, 35 environment variables. */
export const LEAVES_PER_SERVICE = 50;
/** Leaves of the large config. */
export const LEAVES = SERVICES * LEAVES_PER_SERVICE;

const ENV_VARS = 35;

/** One service of the large config. */
export interface Service {
  host: string;
  port: number;
  enabled: boolean;
  timeoutMs: number;
  weight: number;
  tags: string[];
  limits: { cpu: number; memoryMb: number; files: number; procs: number; threads: number };
  env: Record<string, string>;
}

/** The large config: `services` keyed by name. */
export interface LargeConfig {
  services: Record<string, Service>;
}

/** A JSON Schema for {@link LargeConfig}, with defaults (so validation applies them to a copy). */
export const largeSchema = {
  type: 'object',
  properties: {
    services: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        properties: {
          host: { type: 'string', minLength: 1 },
          port: { type: 'integer', minimum: 1, maximum: 65535 },
          enabled: { type: 'boolean', default: true },
          timeoutMs: { type: 'integer', minimum: 0, default: 5000 },
          weight: { type: 'number', minimum: 0, default: 1 },
          tags: { type: 'array', items: { type: 'string' }, default: [] },
          limits: {
            type: 'object',
            properties: {
              cpu: { type: 'number', minimum: 0 },
              memoryMb: { type: 'integer', minimum: 0 },
              files: { type: 'integer', minimum: 0 },
              procs: { type: 'integer', minimum: 0 },
              threads: { type: 'integer', minimum: 0 },
            },
            additionalProperties: false,
            default: {},
          },
          env: { type: 'object', additionalProperties: { type: 'string' }, default: {} },
        },
        required: ['host', 'port'],
        additionalProperties: false,
      },
    },
  },
  required: ['services'],
  additionalProperties: false,
} as const;

/** Name of service `index`: `svc000` … `svc199`. */
export function serviceName(index: number): string {
  return `svc${String(index).padStart(3, '0')}`;
}

/** A fresh large config, every leaf present (10,000 of them). */
export function largeConfig(): LargeConfig {
  return scaledConfig(SERVICES);
}

/** The large config's shape with `count` services: {@link LEAVES_PER_SERVICE} leaves each. */
export function scaledConfig(count: number): LargeConfig {
  const services: Record<string, Service> = {};
  for (let s = 0; s < count; s++) {
    const env: Record<string, string> = {};
    for (let e = 0; e < ENV_VARS; e++) env[`VAR_${String(e).padStart(2, '0')}`] = `value-${s}-${e}-${'x'.repeat(8)}`;
    services[serviceName(s)] = {
      host: `host-${s}.internal.example`,
      port: 10_000 + s,
      enabled: s % 7 !== 0,
      timeoutMs: 1000 + s,
      weight: (s % 10) / 10,
      tags: [`team-${s % 5}`, `tier-${s % 3}`, 'managed', `zone-${s % 4}`, `svc-${s}`],
      limits: { cpu: 0.5 + (s % 4), memoryMb: 256 * (1 + (s % 8)), files: 1024, procs: 64, threads: 16 },
      env,
    };
  }
  return { services };
}

/** Counts the leaves (non-object, non-array values) of JSON data. */
export function countLeaves(value: unknown): number {
  if (value === null || typeof value !== 'object') return 1;
  let count = 0;
  for (const item of Object.values(value)) count += countLeaves(item);
  return count;
}

/** The one leaf the reload benchmarks change: an environment variable deep in one service. */
export const CHANGED_SERVICE = serviceName(123);
export const CHANGED_VAR = 'VAR_17';

/** The ajv options txconfig compiles a JSON Schema with, for a like-for-like naive baseline. */
export function compileLikeTxconfig(schema: object): ValidateFunction {
  return new Ajv({ allErrors: true, useDefaults: true, strict: true }).compile(schema);
}

/** Freezes every object and array of `value`, in place. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

/** JSON text with sorted keys: what a careful naive reload hashes to detect "unchanged". */
export function sortedJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  return `{${Object.keys(record)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${sortedJson(record[key])}`)
    .join(',')}}`;
}

/** One generation kept by the naive approach. */
export interface NaiveSnapshot {
  readonly config: unknown;
  readonly digest: string;
  readonly generation: number;
}

/**
 * The careful naive reload: clone the input (the caller's object is not kept),
 * validate it with the same ajv options (defaults applied), deep-freeze it and hash
 * all of it (sorted keys, like txconfig's digest) to detect an unchanged config.
 */
export class NaiveStore {
  #current: NaiveSnapshot;
  readonly #validate: ValidateFunction;
  readonly #text: (config: unknown) => string;

  /**
   * `hash: 'sorted'` (default) hashes JSON with sorted keys, like txconfig's digest, so a
   * reordered file is unchanged; `'stringify'` hashes `JSON.stringify` as it comes, the
   * cheapest full hash a user could write.
   */
  constructor(schema: object, initial: unknown, options: { hash?: 'sorted' | 'stringify' } = {}) {
    this.#validate = compileLikeTxconfig(schema);
    this.#text = options.hash === 'stringify' ? (config) => JSON.stringify(config) : sortedJson;
    this.#current = { config: null, digest: '', generation: 0 };
    this.reload(initial);
  }

  load(): NaiveSnapshot {
    return this.#current;
  }

  /** Applies `next`; returns false when it equals the live config. Throws when invalid. */
  reload(next: unknown): boolean {
    return this.#apply(structuredClone(next));
  }

  /** Changes a copy of the live config in place with `recipe`, then applies it like {@link reload}. */
  update(recipe: (draft: unknown) => void): boolean {
    const draft = structuredClone(this.#current.config);
    recipe(draft);
    return this.#apply(draft);
  }

  #apply(config: unknown): boolean {
    if (!this.#validate(config)) throw new Error(`invalid config: ${JSON.stringify(this.#validate.errors)}`);
    deepFreeze(config);
    const digest = createHash('sha256').update(this.#text(config)).digest('hex');
    if (digest === this.#current.digest) return false;
    this.#current = { config, digest, generation: this.#current.generation + 1 };
    return true;
  }
}
