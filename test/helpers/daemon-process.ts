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

/** A running `daemon.js serve`. */
export class DaemonProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything the daemon wrote to stderr (its `debug` log). */
  readonly #stderr: string[];
  readonly #exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(child: ChildProcess, url: string, stderr: string[], exit: DaemonProcess['exited']) {
    this.child = child;
    this.url = url;
    this.#stderr = stderr;
    this.#exit = exit;
  }

  /**
   * Spawns `daemon.js serve` with `args` and waits for its `listening on` line.
   * `whileStarting` runs meanwhile, with the daemon's log so far at hand.
   */
  static async start(args: readonly string[], whileStarting?: (log: () => string) => Promise<void>): Promise<DaemonProcess> {
    const child = spawn(process.execPath, [DAEMON_SCRIPT, 'serve', '--port', '0', ...args], {
      env: { ...process.env, DEBUG: 'runtime-wrapper:*,txconfig:*', DEBUG_COLORS: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stderr: string[] = [];
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => {
        resolve({ code, signal });
      });
    });
    const listening = new Promise<string>((resolve, reject) => {
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
        if (match?.[1] !== undefined) resolve(match[1]);
      });
      void exit.then(({ code, signal }) => {
        reject(Object.assign(new Error(`daemon exited (${code ?? signal ?? '?'}) before listening:\n${stderr.join('')}`), { exitCode: code, stderr: stderr.join('') }));
      });
    });
    const [url] = await Promise.all([listening, whileStarting?.(() => stderr.join(''))]);
    return new DaemonProcess(child, url, stderr, exit);
  }

  /** Resolves when the process has exited. */
  get exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.#exit;
  }

  /** The daemon's log so far. */
  get log(): string {
    return this.#stderr.join('');
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
