// Type-checked in the temp project against the installed tarball's declarations, with
// skipLibCheck off: the shipped .d.ts files compile for a strict consumer and carry the
// inference the API promises.
import { ConfigStore, type FromSchema, type Snapshot, type TxConfigError, isTxConfigError } from 'txconfig';

const schema = {
  type: 'object',
  properties: { port: { type: 'integer', default: 8080 }, host: { type: 'string' } },
  required: ['host'],
  additionalProperties: false,
} as const;

export type Config = FromSchema<typeof schema>;
const config: Config = { port: 1, host: 'h' };

export async function start(): Promise<Snapshot<Config>> {
  const store = await ConfigStore.create({ schema, initial: config });
  const snapshot = store.load();
  const port: number = snapshot.config.port;
  // @ts-expect-error snapshots are read-only
  snapshot.config.port = port + 1;
  return snapshot;
}

export function codeOf(error: unknown): TxConfigError['code'] | undefined {
  return isTxConfigError(error) ? error.code : undefined;
}
