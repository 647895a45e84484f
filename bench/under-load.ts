// Question 7: does a server keep its throughput while it reloads (issue 13, target 5)?
// A real HTTP server on 127.0.0.1, in a child process (bench/under-load-server.ts),
// answers each request from one `store.load()` of a 2,000-route table; autocannon, in this
// process, drives it with 50 connections. After a warm-up with reloads, 10 s of load
// without reloads and 10 s with 100 one-key reloads a second, each in two halves run in
// the order without, with, with, without, so that a slow drift of the machine hits both
// alike. The target: at least 90% of the throughput without reloads. Torn reads, errors
// and non-2xx answers end the benchmark with an error. TXCONFIG_BENCH_LOAD_SECONDS
// shortens the load of each mode (default 10 s).
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { figure, type Figure } from './figure.js';
import type { ParentMessage, ServerCounts, ServerMessage } from './under-load-server.js';

const CONNECTIONS = 50;
const WARM_UP_SECONDS = 2;
const RELOADS_PER_SECOND = 100;
/** Whether reloads run, for each half run in turn. */
const ORDER: readonly boolean[] = [false, true, true, false];

/** One mode's figures over its halves. */
interface Totals {
  readonly requestsPerSecond: number;
  /** The mean of the halves' p99 latencies, in ms. */
  readonly p99: number;
  readonly eventLoopUtilization: number;
  readonly reloadsPerSecond: number;
  readonly sent: number;
  readonly answered: number;
}

export async function benchUnderLoad(): Promise<Figure[]> {
  const halfSeconds = loadSeconds() / 2;
  const runs = await measure(halfSeconds);
  const found = failures(runs);
  const nonZero = Object.entries(found).filter(([, count]) => count > 0);
  if (nonZero.length > 0) throw new Error(`under load: ${nonZero.map(([what, count]) => `${count} ${what}`).join(', ')}`);
  const steady = totals(runs.filter((run) => !run.reloads));
  const reloading = totals(runs.filter((run) => run.reloads));
  return [
    figure({
      id: 'under-load.throughput',
      question: 7,
      name: 'HTTP req/s, 2k routes, 100 one-key reloads/s',
      value: reloading.requestsPerSecond,
      unit: 'req/s',
      baseline: 'the same server without reloads',
      baselineValue: steady.requestsPerSecond,
      target: { of: 'ratio', op: '>=', limit: 0.9 },
    }),
    figure({
      id: 'under-load.p99',
      question: 7,
      name: 'HTTP p99 latency, 2k routes, 100 one-key reloads/s',
      value: reloading.p99,
      unit: 'ms',
      baseline: 'the same server without reloads',
      baselineValue: steady.p99,
    }),
    figure({
      id: 'under-load.event-loop-utilization',
      question: 7,
      name: "server's event-loop utilization, 100 one-key reloads/s",
      value: reloading.eventLoopUtilization,
      unit: 'busy share',
      baseline: 'the same server without reloads',
      baselineValue: steady.eventLoopUtilization,
    }),
    figure({
      id: 'under-load.reloads-per-second',
      question: 7,
      name: 'one-key reloads applied per second under load',
      value: reloading.reloadsPerSecond,
      unit: 'reloads/s',
      baseline: 'reloads asked for (one every 10 ms)',
      baselineValue: RELOADS_PER_SECOND,
      target: { of: 'ratio', op: '>=', limit: 0.95 },
    }),
    figure({
      id: 'under-load.torn-reads',
      question: 7,
      name: 'torn reads (weight not of its generation)',
      value: found['torn reads'],
      unit: 'reads',
      baseline: 'requests checked, both modes',
      baselineValue: steady.answered + reloading.answered,
      target: { of: 'value', op: '<=', limit: 0 },
    }),
    figure({
      id: 'under-load.errors',
      question: 7,
      name: 'errors (timeouts included) and non-2xx answers',
      value: found.errors + found['non-2xx answers'],
      unit: 'requests',
      baseline: 'requests sent, both modes',
      baselineValue: steady.sent + reloading.sent,
      target: { of: 'value', op: '<=', limit: 0 },
    }),
  ];
}

/** One half: autocannon's result and the server's counts for the same time. */
interface Run {
  readonly reloads: boolean;
  readonly result: autocannon.Result;
  readonly counts: ServerCounts;
}

/** Starts the server, warms it up with reloads, then runs the halves of {@link ORDER}. */
async function measure(halfSeconds: number): Promise<Run[]> {
  const server = await startServer();
  try {
    await server.ask({ type: 'window', reloads: true });
    const warmUp = await cannon(server.port, server.paths, WARM_UP_SECONDS);
    if (warmUp.errors + warmUp.non2xx > 0) throw new Error(`under load: ${warmUp.errors} errors and ${warmUp.non2xx} non-2xx answers in the warm-up`);
    const runs: Run[] = [];
    for (const reloads of ORDER) {
      await server.ask({ type: 'window', reloads });
      const result = await cannon(server.port, server.paths, halfSeconds);
      runs.push({ reloads, result, counts: await server.ask({ type: 'report' }) });
    }
    return runs;
  } finally {
    await server.stop();
  }
}

const sum = (runs: readonly Run[], of: (run: Run) => number): number => runs.reduce((total, run) => total + of(run), 0);

/** One mode's figures, from its halves. */
function totals(runs: readonly Run[]): Totals {
  const windowSeconds = sum(runs, (run) => run.counts.windowMs) / 1000;
  return {
    requestsPerSecond: sum(runs, (run) => run.result.requests.total) / sum(runs, (run) => run.result.duration),
    p99: sum(runs, (run) => run.result.latency.p99) / runs.length,
    eventLoopUtilization: sum(runs, (run) => run.counts.eventLoopUtilization * run.counts.windowMs) / (windowSeconds * 1000),
    reloadsPerSecond: sum(runs, (run) => run.counts.reloadsApplied) / windowSeconds,
    sent: sum(runs, (run) => run.result.requests.sent),
    answered: sum(runs, (run) => run.counts.requests),
  };
}

/** What must not happen, over all halves; the benchmark throws unless every count is 0. */
function failures(runs: readonly Run[]): Record<'torn reads' | 'unknown paths' | 'failed reloads' | 'errors' | 'non-2xx answers', number> {
  // The server counts these from its start: the last report holds them all.
  const last = runs.at(-1)!.counts;
  return {
    'torn reads': last.tornReads,
    'unknown paths': last.notFound,
    'failed reloads': last.reloadErrors,
    // autocannon's errors include its timeouts.
    errors: sum(runs, (run) => run.result.errors),
    'non-2xx answers': sum(runs, (run) => run.result.non2xx),
  };
}

/** Seconds of load for each mode: TXCONFIG_BENCH_LOAD_SECONDS, or 10. An even number: each half is whole seconds (autocannon's samples). */
function loadSeconds(): number {
  const text = process.env.TXCONFIG_BENCH_LOAD_SECONDS;
  if (text === undefined || text === '') return 10;
  const seconds = Number(text);
  if (!Number.isInteger(seconds) || seconds < 2 || seconds % 2 !== 0) throw new Error(`TXCONFIG_BENCH_LOAD_SECONDS must be an even number of seconds >= 2, not ${text}`);
  return seconds;
}

/** autocannon against the server, each connection requesting `paths` in turn. */
function cannon(port: number, paths: readonly string[], seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: CONNECTIONS,
    duration: seconds,
    requests: paths.map((path) => ({ method: 'GET', path })),
  });
}

interface Server {
  readonly port: number;
  readonly paths: readonly string[];
  /** Sends `message` and returns the counts the server answers with. */
  ask(message: Exclude<ParentMessage, { type: 'stop' }>): Promise<ServerCounts>;
  stop(): Promise<void>;
}

async function startServer(): Promise<Server> {
  const script = fileURLToPath(new URL('under-load-server.js', import.meta.url));
  // No inherited flags (--expose-gc): the server runs as a daemon would.
  const child = fork(script, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await nextMessage(child);
  if (ready.type !== 'ready') {
    child.kill();
    throw new Error(`under-load-server sent ${ready.type} before ready`);
  }
  return {
    port: ready.port,
    paths: ready.paths,
    async ask(question) {
      const reply = nextMessage(child);
      send(child, question);
      const message = await reply;
      if (message.type !== 'counts') throw new Error(`under-load-server answered ${question.type} with ${message.type}`);
      return message.counts;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      send(child, { type: 'stop' });
      const timer = setTimeout(() => child.kill(), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function send(child: ChildProcess, message: ParentMessage): void {
  child.send(message);
}

/** The child's next message; rejects if it exits first. */
function nextMessage(child: ChildProcess): Promise<ServerMessage> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: ServerMessage): void => {
      child.off('exit', onExit);
      resolve(message);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      child.off('message', onMessage);
      reject(new Error(`under-load-server exited (${signal ?? `code ${code}`}) before it answered`));
    };
    child.once('message', onMessage);
    child.once('exit', onExit);
  });
}
