// Child process for watch.test.ts: watches a file with the BUILT package, closes the
// watcher after the first change, and must then exit on its own (no handle left).
import process from 'node:process';
import { watchConfigFile } from '../../dist/index.js';

const say = (line) => process.stdout.write(line + '\n');
const path = process.argv[2];
const watcher = watchConfigFile(
  path,
  ({ config }) => {
    say(`changed ${JSON.stringify(config)}`);
    void watcher.close().then(() => say('closed'));
  },
  { debounceMs: 20 },
);
await watcher.ready;
say('watching');
