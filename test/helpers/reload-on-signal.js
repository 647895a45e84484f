// Child process for reload-on-signal.test.ts: a tiny daemon on the BUILT package that
// reloads its config file on SIGHUP through reloadOnSignal.
// Usage: node reload-on-signal.js <config> <real|minimal>
//   real:    the package's ConfigStore (which stops the trigger when it closes)
//   minimal: a 30-line requestReload that coalesces bursts, standing in for any store
// Reports JSON lines on stdout; reads commands on stdin: `gate` (hold the next load until
// `release`), `release`, `stop` (remove the handler), `reject-outcomes` (from now on,
// onOutcome returns a rejected promise), `close` (close the store; real only).
import process from 'node:process';
import { createInterface } from 'node:readline';
import * as txconfig from '../../dist/index.js';

const [path, mode] = process.argv.slice(2);
const send = (event) => process.stdout.write(JSON.stringify(event) + '\n');

function minimalStore(initial) {
  let config = initial;
  let running;
  let queued;
  const runOnce = async (load) => {
    try {
      const next = await load();
      const changed = JSON.stringify(next) !== JSON.stringify(config);
      config = next;
      return { status: changed ? 'applied' : 'unchanged' };
    } catch (error) {
      return { status: 'rejected', error };
    }
  };
  const start = (load) => {
    running = runOnce(load).finally(() => (running = undefined));
    return running;
  };
  const store = {
    requestReload(load) {
      if (running === undefined) return start(load);
      // Everything that arrives while one runs shares the one that runs next.
      queued ??= running.then(() => {
        queued = undefined;
        return start(load);
      });
      return queued;
    },
  };
  return { store, current: () => config };
}

async function realStore(initial) {
  const store = await txconfig.ConfigStore.create({ schema: { type: 'object' }, initial });
  return { store, current: () => store.load().config };
}

const initial = await txconfig.readConfigFile(path);
const { store, current } = mode === 'real' ? await realStore(initial) : minimalStore(initial);

let loads = 0;
let signals = 0;
let outcomes = 0;
let gate;
let release;
let rejectOutcomes = false;

// Counts signals as the process sees them (the OS may merge a burst into fewer).
const countSignal = () => {
  signals++;
  send({ event: 'signal', signals });
};
process.on('SIGHUP', countSignal);

const stop = txconfig.reloadOnSignal(
  store,
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
        config: current(),
        loads,
        signals,
        outcomes,
      });
      // An async handler that fails: must be logged, not crash the daemon.
      if (rejectOutcomes) return Promise.reject(new Error(`onOutcome failed on purpose (${outcomes})`));
    },
  },
);

const handle = async (line) => {
  if (line === 'gate') gate = new Promise((resolve) => (release = resolve));
  if (line === 'release') release?.();
  if (line === 'reject-outcomes') rejectOutcomes = true;
  if (line === 'stop') {
    stop();
    stop();
  }
  if (line === 'close') await store.close();
  if (line === 'stop' || line === 'close') {
    // With no listener left, SIGHUP has its default action again: the test expects it to kill us.
    process.off('SIGHUP', countSignal);
    send({ event: 'stopped', listeners: process.listenerCount('SIGHUP') });
  }
  send({ event: 'ack', command: line });
};
createInterface({ input: process.stdin }).on('line', (line) => {
  void handle(line);
});

send({ event: 'ready', config: current(), pid: process.pid });
