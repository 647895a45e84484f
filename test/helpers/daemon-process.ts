// The runtime-wrapper demo daemon (`serve` mode), as a real child process: spawned from
// the compiled example, talked to over HTTP on 127.0.0.1, signalled for real.
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { fileURLToPath } from 'node:url';

/** The compiled daemon; `npm test` compiles the examples before running vitest. */
export const DAEMON_SCRIPT = fileURLToPath(new URL('../../build/examples/runtime-wrapper/daemon.js', import.meta.url));

/** An HTTP answer, with the body parsed when it is JSON. */
export interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly body: unknown;
  readonly text: string;
}

/** Options of {@link DaemonProcess.start}. */
export interface DaemonStartOptions {
  /** Runs while the daemon starts, with its log so far and the process (to signal it). */
  readonly whileStarting?: (log: () => string, child: ChildProcess) => Promise<void>;
  /** Log everything with `debug` (default), or only what the daemon prints by default. */
  readonly debug?: boolean;
  /** Variables added to the daemon's environment (`RUNTIME_WRAPPER_…` settings). */
  readonly env?: NodeJS.ProcessEnv;
}

/** How a {@link runDaemon} run ended. */
export interface DaemonRun {
  /** The exit code; `null` when killed by a signal (or by the timeout). */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The process was still running after the timeout, and was killed. */
  readonly timedOut: boolean;
}

/**
 * The environment of a daemon: ours, with `DEBUG` set to log everything or removed, then
 * `extra`. Without the daemon's own settings (`RUNTIME_WRAPPER_…`): a test sets its own.
 */
function daemonEnv(debug: boolean, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('RUNTIME_WRAPPER_')));
  env.DEBUG_COLORS = '0';
  if (debug) env.DEBUG = 'runtime-wrapper:*,txconfig:*';
  else delete env.DEBUG;
  return { ...env, ...extra };
}

/**
 * Runs `daemon.js` with exactly `args` (no `serve` added) until it exits on its own, for
 * the commands and start-ups that must end. One that is still running after `timeoutMs`
 * is killed with SIGKILL and reported as `timedOut`. `DEBUG` is unset unless `env` sets it.
 */
export function runDaemon(args: readonly string[], options: { readonly env?: NodeJS.ProcessEnv; readonly timeoutMs?: number } = {}): Promise<DaemonRun> {
  const child = spawn(process.execPath, [DAEMON_SCRIPT, ...args], { env: daemonEnv(false, options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs ?? 10_000);
  return new Promise((resolve) => {
    // 'close', not 'exit': every byte of output has been read by then.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/** A running `daemon.js serve`. */
export class DaemonProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything the daemon wrote to stderr (its `debug` log). */
  readonly #stderr: string[];
  /** Everything the daemon wrote to stdout. */
  readonly #stdout: string[];
  readonly #exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(child: ChildProcess, url: string, output: { stdout: string[]; stderr: string[] }, exit: DaemonProcess['exited']) {
    this.child = child;
    this.url = url;
    this.#stdout = output.stdout;
    this.#stderr = output.stderr;
    this.#exit = exit;
  }

  /**
   * Spawns `daemon.js serve` with `args` and waits for its `listening on` line.
   * `whileStarting` runs meanwhile, with the daemon's log so far at hand. With `debug`
   * (the default) the daemon logs everything (`DEBUG=runtime-wrapper:*,txconfig:*`);
   * without, it writes only what a user sees by default.
   */
  static async start(args: readonly string[], options: DaemonStartOptions = {}): Promise<DaemonProcess> {
    const child = spawn(process.execPath, [DAEMON_SCRIPT, 'serve', '--port', '0', ...args], {
      env: daemonEnv(options.debug ?? true, options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stderr: string[] = [];
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => {
        resolve({ code, signal });
      });
    });
    const stdout: string[] = [];
    const listening = new Promise<string>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout.push(chunk);
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout.join(''));
        if (match?.[1] !== undefined) resolve(match[1]);
      });
      void exit.then(({ code, signal }) => {
        reject(Object.assign(new Error(`daemon exited (${code ?? signal ?? '?'}) before listening:\n${stderr.join('')}`), { exitCode: code, stderr: stderr.join('') }));
      });
    });
    const [url] = await Promise.all([listening, options.whileStarting?.(() => stderr.join(''), child)]);
    return new DaemonProcess(child, url, { stdout, stderr }, exit);
  }

  /** Resolves when the process has exited. */
  get exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.#exit;
  }

  /** The daemon's log so far. */
  get log(): string {
    return this.#stderr.join('');
  }

  /** What the daemon printed on stdout so far. */
  get stdout(): string {
    return this.#stdout.join('');
  }

  /** Sends `signal` to the daemon. */
  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Calls the control API as a command-line client would: POST and DELETE say `application/json`. */
  request(method: string, path: string, body?: unknown): Promise<Answer> {
    const headers: OutgoingHttpHeaders = method === 'GET' ? {} : { 'content-type': 'application/json' };
    return this.rawRequest(method, path, headers, body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body));
  }

  /** Sends exactly these headers (`Host` is `127.0.0.1:<port>` unless given). */
  rawRequest(method: string, path: string, headers: OutgoingHttpHeaders, body?: string): Promise<Answer> {
    const url = new URL(path, this.url);
    return new Promise((resolve, reject) => {
      const outgoing = httpRequest(url, { method, headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const contentType = response.headers['content-type'] ?? '';
          resolve({ status: response.statusCode ?? 0, contentType, text, body: contentType.startsWith('application/json') ? (JSON.parse(text) as unknown) : text });
        });
      });
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  }

  /** Stops the daemon with SIGTERM (if still running) and waits for it. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.#exit;
  }
}
