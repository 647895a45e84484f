// Question 5: a burst of 1,000 `requestReload` calls while a slow reload runs executes
// at most 2 reloads (the one running, and one more with the latest config).
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigStore, type Participant } from 'txconfig';
import { figure, type Figure } from './figure.js';

export const BURST = 1000;
const SLOW_MS = 200;

const schema = { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'], additionalProperties: false } as const;

export async function benchBurst(): Promise<Figure[]> {
  let prepares = 0;
  const slow: Participant<{ n: number }, 'slow', null> = {
    name: 'slow',
    async prepare() {
      prepares++;
      await sleep(SLOW_MS);
      return { derived: null };
    },
  };
  const store = await ConfigStore.create({ schema, initial: { n: 0 }, participants: [slow] });
  prepares = 0;
  let loads = 0;
  const request = (n: number): Promise<unknown> =>
    store.requestReload(() => {
      loads++;
      return { n };
    });
  // One request starts a slow reload; the burst arrives while it runs.
  const first = request(1);
  await sleep(SLOW_MS / 4);
  const burst = Array.from({ length: BURST }, (_, i) => request(2 + i));
  const outcomes = await Promise.all([first, ...burst]);
  const rejected = outcomes.filter((outcome) => (outcome as { status: string }).status === 'rejected').length;
  if (rejected > 0) throw new Error(`burst: ${rejected} requests were rejected`);
  if (store.load().config.n !== BURST + 1) throw new Error(`burst: the last request's config is not live (n = ${store.load().config.n})`);
  return [
    figure({
      id: 'burst.reloads',
      question: 5,
      name: `reloads executed for 1 + ${BURST} requestReload calls`,
      value: Math.max(loads, prepares),
      unit: 'reloads',
      baseline: 'requestReload calls',
      baselineValue: BURST + 1,
      target: { of: 'value', op: '<=', limit: 2 },
    }),
  ];
}
