// The runtime-wrapper demo daemon.
//
//   node build/examples/runtime-wrapper/daemon.js demo
//   node build/examples/runtime-wrapper/daemon.js serve --config FILE --state-dir DIR [--port N] [--runc PATH] [--no-watch]
//
// `serve` reloads on SIGHUP and (unless --no-watch) when the config file changes, and answers a control API
// on 127.0.0.1 only. It prints one line, `listening on http://127.0.0.1:<port>`, once
// it serves; everything else goes to `debug` (DEBUG=runtime-wrapper:*,txconfig:*).
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { runDemo } from './demo.js';
import { serve } from './serve.js';

const USAGE = `usage:
  daemon.js demo
  daemon.js serve --config FILE --state-dir DIR [--port N] [--runc PATH] [--no-watch]`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'demo' && rest.length === 0) return runDemo();
  if (command !== 'serve') {
    console.error(USAGE);
    return 2;
  }
  const { values } = parseArgs({
    args: [...rest],
    options: {
      config: { type: 'string' },
      'state-dir': { type: 'string' },
      port: { type: 'string', default: '0' },
      runc: { type: 'string', default: 'runc' },
      'no-watch': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const port = Number(values.port);
  if (values.config === undefined || values['state-dir'] === undefined || !Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(USAGE);
    return 2;
  }
  await serve({ configPath: resolve(values.config), stateDir: resolve(values['state-dir']), port, runc: values.runc, watch: !values['no-watch'] });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
