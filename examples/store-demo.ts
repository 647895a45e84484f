// A tour of the store in one process: cold start, a reload by recipe, a rejected
// reload that changes nothing, a reader that keeps its snapshot across awaits, and a
// drain with pins. Uses only the public API, imported by package name.
import { ConfigStore, isTxConfigError, type Participant } from 'txconfig';

const schema = {
  type: 'object',
  properties: {
    greeting: { type: 'string', minLength: 1, default: 'hello' },
    port: { type: 'integer', minimum: 1, maximum: 65535, default: 8080 },
  },
  additionalProperties: false,
} as const;

interface Greeter {
  greet(name: string): string;
}

// A participant builds a new service in prepare and switches to it in commit.
let activeGreeter: Greeter | undefined;
const greeter: Participant<{ greeting: string }, 'greeter', { phrase: string }> = {
  name: 'greeter',
  prepare(ctx) {
    const next: Greeter = { greet: (name) => `${ctx.config.greeting}, ${name}` };
    return {
      derived: { phrase: ctx.config.greeting },
      commit: () => {
        activeGreeter = next;
      },
    };
  },
};

function check(condition: boolean, what: string): void {
  console.log(`${condition ? 'ok  ' : 'FAIL'} ${what}`);
  if (!condition) process.exitCode = 1;
}

const store = await ConfigStore.create({ schema, initial: {}, participants: [greeter] });
const first = store.load();
check(first.generation === 1 && first.config.greeting === 'hello', `cold start: generation ${first.generation}, greeting "${first.config.greeting}"`);
check(activeGreeter?.greet('world') === 'hello, world', 'the greeter service was switched in at commit');

store.subscribe(({ snapshot, patches }) => {
  console.log(`     subscriber: generation ${snapshot.generation}, patches ${JSON.stringify(patches)}`);
});

// A reader captures the snapshot once and keeps a consistent view across awaits.
const pin = store.pin();
const reader = (async () => {
  const snap = pin.snapshot;
  await new Promise((resolve) => setTimeout(resolve, 20));
  return snap.config.greeting;
})();

const result = await store.reload((draft) => {
  draft.greeting = 'bonjour';
});
check(result.status === 'applied' && store.load().config.greeting === 'bonjour', `reload by recipe: ${result.status}, generation ${result.snapshot.generation}`);
check(result.snapshot.config !== first.config, 'a new immutable snapshot; the old one is untouched');
check((await reader) === 'hello', 'the reader that started before the reload still saw "hello"');

const live = store.load();
try {
  await store.reload({ greeting: '', port: 0 });
  check(false, 'a bad config must be rejected');
} catch (error) {
  const code = isTxConfigError(error) ? error.code : 'unknown';
  check(code === 'ERR_VALIDATION', `bad config rejected with ${code}: ${(error as Error).message}`);
}
check(store.load() === live, 'after the rejection the live snapshot is the very same object');

const again = await store.reload({ greeting: 'bonjour' });
check(again.status === 'unchanged', `reloading equal content is "${again.status}": no new generation`);

setTimeout(() => {
  pin.release();
}, 10);
await store.synchronize({ timeoutMs: 1000 });
check(store.status().pinnedGenerations.length === 0, 'synchronize() resolved once the old pin was released');
console.log(JSON.stringify(store.status(), null, 2));
