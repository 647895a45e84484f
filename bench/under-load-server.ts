// The server of question 7, started by bench/under-load.ts as a child process
// (`node build/bench/under-load-server.js`): an HTTP server on 127.0.0.1 that answers
// every request from one `store.load()`, looking the URL path up in a table of 2,000
// routes. While the parent has reloads on, it also takes 100 one-key reloads a second.
//
// Every route's `weight` is the generation that last wrote it (1 for the cold start):
// reload n sets `weight = n + 2` on requested route n % 100 and must produce generation
// n + 2. So the weight a request reads is a function of its snapshot's generation and the
// route, and any other value (a route from another generation, a lost reload) is a torn
// read, counted and answered with a 500.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { ConfigStore } from 'txconfig';

/** What the server tells the parent: its address and the paths to request, then its counts when asked. */
export type ServerMessage =
  | { readonly type: 'ready'; readonly port: number; readonly paths: readonly string[] }
  | { readonly type: 'counts'; readonly counts: ServerCounts };

/**
 * What the parent asks: `window` starts a new measuring window with reloads on or off,
 * `report` sends the counts of the window, `stop` closes everything and ends the process.
 * The server answers both `window` (the counts of the window it ends) and `report` with its counts.
 */
export type ParentMessage = { readonly type: 'window'; readonly reloads: boolean } | { readonly type: 'report' | 'stop' };

export interface ServerCounts {
  /** Requests answered with a route, in the window. */
  readonly requests: number;
  /** Reloads committed as the generation they were due to make, in the window. */
  readonly reloadsApplied: number;
  /** Reloads not asked for because {@link MAX_WAITING} were already waiting, in the window. */
  readonly reloadsSkipped: number;
  /** Milliseconds since the window started. */
  readonly windowMs: number;
  /** The share of the window the event loop was busy (0 to 1): below 1, the load generator set the pace. */
  readonly eventLoopUtilization: number;
  /** Reads whose weight is not the one of their snapshot's generation, since the start. */
  readonly tornReads: number;
  /** Requests for a path the table does not hold, since the start. */
  readonly notFound: number;
  /** Reloads that failed or made another generation than due, since the start. */
  readonly reloadErrors: number;
}

const ROUTES = 2_000;
/** The paths the load generator requests: every 20th route, 100 in all. */
const REQUESTED = 100;
const RELOADS_PER_SECOND = 100;
/** Reloads allowed to wait for the store's slot before the schedule skips one (the store runs them one at a time). */
const MAX_WAITING = 50;

const schema = {
  type: 'object',
  properties: {
    routes: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        properties: { upstream: { type: 'string' }, weight: { type: 'integer' } },
        required: ['upstream', 'weight'],
        additionalProperties: false,
      },
    },
  },
  required: ['routes'],
  additionalProperties: false,
} as const;

if (process.send === undefined) throw new Error('under-load-server: start it with an IPC channel (child_process.fork)');

const routePath = (index: number): string => `/route/${String(index).padStart(6, '0')}`;
const routes: Record<string, { upstream: string; weight: number }> = {};
for (let i = 0; i < ROUTES; i++) routes[routePath(i)] = { upstream: `upstream-${i % 50}.internal:8080`, weight: 1 };
const paths = Array.from({ length: REQUESTED }, (_, i) => routePath(i * (ROUTES / REQUESTED)));
const requestedIndex = new Map(paths.map((path, index) => [path, index]));

const store = await ConfigStore.create({ schema, initial: { routes } });

/** The weight requested route `index` has in generation `generation` (see the file's head). */
function expectedWeight(index: number, generation: number): number {
  const last = generation - 2;
  if (last < index) return 1;
  return last - ((last - index) % REQUESTED) + 2;
}

interface Window {
  readonly started: number;
  readonly loop: EventLoopUtilization;
  requests: number;
  reloadsApplied: number;
  reloadsSkipped: number;
}

function newWindow(): Window {
  return { started: performance.now(), loop: performance.eventLoopUtilization(), requests: 0, reloadsApplied: 0, reloadsSkipped: 0 };
}

// The counts of the measuring window (a `window` message starts a new one), and of the whole run.
let tally = newWindow();
let tornReads = 0;
let notFound = 0;
let reloadErrors = 0;

const server = createServer((request, response) => {
  const snapshot = store.load();
  const path = request.url ?? '';
  const table = snapshot.config.routes;
  const route = Object.hasOwn(table, path) ? table[path] : undefined;
  if (route === undefined) {
    notFound++;
    response.writeHead(404).end();
    return;
  }
  const index = requestedIndex.get(path);
  if (index !== undefined && route.weight !== expectedWeight(index, snapshot.generation)) {
    tornReads++;
    response.writeHead(500).end();
    return;
  }
  tally.requests++;
  const body = JSON.stringify({ upstream: route.upstream, generation: snapshot.generation });
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
});

// The next reload's number (it makes generation sequence + 2), and how many reloads wait
// for the store's slot or run.
let sequence = 0;
let waiting = 0;

/** Reload `n`: the weight of requested route n % 100 becomes n + 2, the generation it makes. */
function reloadOne(n: number): void {
  const path = paths[n % REQUESTED]!;
  const weight = n + 2;
  waiting++;
  store
    .reload((draft) => {
      draft.routes[path]!.weight = weight;
    })
    .then(
      (result) => {
        if (result.status === 'applied' && result.snapshot.generation === weight) tally.reloadsApplied++;
        else reloadErrors++;
      },
      (error: unknown) => {
        reloadErrors++;
        console.error('under-load-server: a reload failed', error);
      },
    )
    .finally(() => waiting--);
}

/**
 * Asks for reloads on a schedule of 100 a second until the returned function is called:
 * each 10 ms tick asks for every reload due since the start, so a late timer (the event
 * loop is busy serving) catches up instead of lowering the rate. Each reload changes the
 * next requested route's weight.
 */
function startReloads(): () => void {
  const started = performance.now();
  let scheduled = 0;
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - started) * RELOADS_PER_SECOND) / 1000) - scheduled;
    for (let i = 0; i < due; i++) {
      scheduled++;
      if (waiting >= MAX_WAITING) tally.reloadsSkipped++;
      else reloadOne(sequence++);
    }
  }, 1000 / RELOADS_PER_SECOND);
  return () => {
    clearInterval(timer);
  };
}

let stopReloads = (): void => undefined;

function counts(): ServerCounts {
  const { started, loop, ...windowCounts } = tally;
  const eventLoopUtilization = performance.eventLoopUtilization(loop).utilization;
  return { ...windowCounts, windowMs: performance.now() - started, eventLoopUtilization, tornReads, notFound, reloadErrors };
}

const send = (message: ServerMessage): void => {
  process.send?.(message);
};

process.on('message', (message: ParentMessage) => {
  if (message.type === 'window') {
    stopReloads();
    stopReloads = message.reloads ? startReloads() : () => undefined;
    const ended = counts();
    tally = newWindow();
    send({ type: 'counts', counts: ended });
  } else if (message.type === 'report') {
    send({ type: 'counts', counts: counts() });
  } else {
    // Nothing is left to keep the process alive once these close, so it ends by itself
    // (and `node --cpu-prof` writes its profile).
    stopReloads();
    server.closeAllConnections();
    server.close();
    void store.close().then(() => {
      process.disconnect();
    });
  }
});

server.listen(0, '127.0.0.1', () => {
  // Listening on TCP, so the address is an AddressInfo, never a pipe's name.
  send({ type: 'ready', port: (server.address() as AddressInfo).port, paths });
});
