// Child process for signals.test.ts: a tiny daemon on the BUILT package that reloads its
// config file on SIGHUP through reloadOnSignal. Usage: node reload-on-signal.js <config> <real|minimal>
//   real:    the package's ConfigStore
//   minimal: a 30-line requestReload that coalesces bursts, standing in for any store
// Reports JSON lines on stdout; reads commands on stdin: `gate` (hold the next load until
// `release`), `release`, `stop` (remove the handler).
import process from 'node:process';
import { createInterface } from 'node:readline';
import * as txconfig from '../../dist/index.js';

const [path, mode] = process.argv.slice(2);
const send = (event) => process.stdout.write(JSON.stringify(event) + '\n');

function minimalStore(initial) {
  let config = initial;
  let running;
  let queued;
  const runOnce = async (loadFn) => {
    try {
      const next = await loadFn();
      const changed = JSON.stringify(next) !== JSON.stringify(config);
      config = next;
      return { status: changed ? 'applied' : 'unchanged' };
    } catch (error) {
      return { status: 'rejected', error };
    }
  };
  const start = (loadFn) => {
    running = runOnce(loadFn).finally(() => (running = undefined));
    return running;
  };
  return {
    current: () => config,
    requestReload(loadFn) {
      if (running === undefined) return start(loadFn);
      // Everything that arrives while one runs shares the one that runs next.
      queued ??= running.then(() => {
        queued = undefined;
        return start(loadFn);
      });
      return queued;
    },
  };
}

async function realStore(initial) {
  const store = await txconfig.ConfigStore.create({ schema: { type: 'object' }, initial });
  return { current: () => store.load().config, requestReload: (loadFn) => store.requestReload(loadFn) };
}

const initial = await txconfig.readConfigFile(path);
const store = mode === 'real' ? await realStore(initial) : minimalStore(initial);

let loads = 0;
let signals = 0;
let outcomes = 0;
let gate;
let release;

// Counts signals as the process sees them (the OS may merge a burst into fewer).
const countSignal = () => {
  signals++;
  send({ event: 'signal', signals });
};
process.on('SIGHUP', countSignal);

const stop = txconfig.reloadOnSignal(
  store,
  'SIGHUP',
  async () => {
    loads++;
    send({ event: 'load', loads });
    if (gate !== undefined) {
      const wait = gate;
      gate = undefined;
      await wait;
    }
    return txconfig.readConfigFile(path);
  },
  {
    onOutcome: (outcome) => {
      outcomes++;
      const error = outcome.error;
      send({
        event: 'outcome',
        status: outcome.status,
        error: error === undefined ? null : { code: error.code, cause: error.cause?.code ?? null },
        config: store.current(),
        loads,
        signals,
        outcomes,
      });
    },
  },
);

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'gate') gate = new Promise((resolve) => (release = resolve));
  if (line === 'release') release?.();
  if (line === 'stop') {
    stop();
    stop();
    // With no listener left, SIGHUP has its default action again: the test expects it to kill us.
    process.off('SIGHUP', countSignal);
    send({ event: 'stopped', listeners: process.listenerCount('SIGHUP') });
  }
  send({ event: 'ack', command: line });
});

send({ event: 'ready', config: store.current(), pid: process.pid });
