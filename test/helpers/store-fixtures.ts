import type { Participant, Prepared, PrepareContext } from '../../src/index.js';

/** A small daemon-like schema used across the store tests. */
export const serverSchema = {
  type: 'object',
  properties: {
    port: { type: 'integer', minimum: 1, maximum: 65535, default: 8080 },
    debug: { type: 'boolean', default: false },
    count: { type: 'integer', default: 0 },
    upstreams: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        properties: { url: { type: 'string' }, weight: { type: 'integer', minimum: 0 } },
        required: ['url'],
        additionalProperties: false,
      },
      default: {},
    },
    tags: { type: 'array', items: { type: 'string' }, default: [] },
  },
  additionalProperties: false,
} as const;

/** The smallest schema with a default: one port. */
export const portSchema = {
  type: 'object',
  properties: { port: { type: 'integer', default: 8080 } },
  additionalProperties: false,
} as const;

/** The config of {@link portSchema}. */
export interface PortConfig {
  port: number;
}

export interface ServerConfig {
  port: number;
  debug: boolean;
  count: number;
  upstreams: Record<string, { url: string; weight?: number }>;
  tags: string[];
}

/** A record of what participants did, in order. */
export type Journal = string[];

export interface RecordingOptions {
  readonly failPrepare?: boolean;
  readonly failRollback?: boolean;
  readonly failCommit?: boolean;
  readonly derive?: (config: ServerConfig) => unknown;
  readonly onPrepare?: (ctx: PrepareContext<ServerConfig>) => void | Promise<void>;
  readonly onCommit?: () => void;
}

/** A participant that writes every hook call into `journal`, and fails where told to. */
export function recording(name: string, journal: Journal, options: RecordingOptions = {}): Participant<ServerConfig> {
  return {
    name,
    async prepare(ctx): Promise<Prepared> {
      journal.push(`${name}.prepare`);
      await options.onPrepare?.(ctx);
      if (options.failPrepare === true) throw new Error(`${name} refuses`);
      return {
        derived: options.derive?.(ctx.config as ServerConfig) ?? { port: ctx.config.port },
        commit: () => {
          journal.push(`${name}.commit`);
          options.onCommit?.();
          if (options.failCommit === true) throw new Error(`${name} commit broke`);
        },
        rollback: () => {
          journal.push(`${name}.rollback`);
          if (options.failRollback === true) throw new Error(`${name} rollback broke`);
        },
      };
    },
  };
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A promise with its resolve function, for holding a step open. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
