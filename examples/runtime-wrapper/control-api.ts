// The daemon's control API: JSON over HTTP, for 127.0.0.1 only (binding is the caller's
// job; see serve.ts). Every error answer is `{ "error": { "code", "message", ... } }`.
//
// No answer holds a secret: the config is served redacted (each registry token as
// `[redacted]`), and what the store reports (status, errors, explain) is redacted by it.
//
// Listening on loopback does not keep web pages out: a browser will send a page's
// cross-site POST to 127.0.0.1 (no preflight for a text/plain body), and DNS rebinding
// lets a page read the answers. So every request must name this server in `Host`, must
// not carry an `Origin` (browsers send one with every cross-site or script request;
// command-line clients do not), and every POST or DELETE must say `application/json`,
// which a page cannot send cross-site without a preflight this server never answers.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

import createDebug from 'debug';
import { isTxConfigError, type ConfigStatus, type Explanation, type ReloadResult, type Snapshot } from 'txconfig';

import { ContainerError, type ContainerEngine, type ContainerErrorCode } from './containers.js';
import { METRICS_CONTENT_TYPE, renderMetrics } from './metrics.js';
import { RuntimeConfigError, UnknownRuntimeError } from './plugin.js';

const log = createDebug('runtime-wrapper:http');

/** The HTTP status of each container failure. */
const CONTAINER_STATUS: Readonly<Record<ContainerErrorCode, number>> = {
  ERR_NO_CONTAINER: 404,
  ERR_CONTAINER_EXISTS: 409,
  ERR_CONTAINER_ID: 422,
  ERR_RUNTIME_FAILED: 502,
  ERR_WRAPPER_INVALID: 500,
  ERR_STATE_FILE: 500,
};

/** The HTTP status of each way a reload can end: `aborted` only happens while the daemon shuts down. */
const RELOAD_STATUS: Readonly<Record<ReloadResult['status'], number>> = {
  applied: 200,
  unchanged: 200,
  rejected: 422,
  aborted: 503,
};

/** The largest request body accepted, in bytes. */
const MAX_BODY_BYTES = 64 * 1024;

/** What the API serves. */
export interface ControlApiOptions {
  readonly store: {
    load(): Snapshot<unknown, unknown>;
    status(): ConfigStatus;
    explain(pointer: string): Explanation;
  };
  readonly engine: ContainerEngine;
  /** Re-reads every config layer and reloads; never rejects. */
  readonly reload: () => Promise<ReloadResult<unknown, unknown>>;
  /** How many wrapper scripts are on disk, for /metrics. */
  readonly countArtifacts: () => Promise<number>;
}

/** A request that cannot be served as sent: answered with `status` and `code`. */
class RequestError extends Error {
  override name = 'RequestError';
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Creates (does not start) the control API server. */
export function createControlServer(options: ControlApiOptions): Server {
  return createServer((request, response) => {
    route(options, request)
      .then(
        (reply) => {
          send(response, reply);
        },
        (error: unknown) => {
          sendError(response, error);
        },
      )
      .catch((error: unknown) => {
        // Sending itself failed (the client went away, an error that cannot be described).
        log('cannot answer %s %s: %O', request.method, request.url, error);
        response.destroy();
      });
  });
}

/** An answer: a status and a JSON body, or text with its content type. */
interface Reply {
  readonly status: number;
  readonly body: unknown;
  readonly contentType?: string;
}

function json(status: number, body: unknown): Reply {
  return { status, body };
}

async function route(options: ControlApiOptions, request: IncomingMessage): Promise<Reply> {
  const { store, engine } = options;
  const method = request.method ?? 'GET';
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  const path = url.pathname;
  log('%s %s', method, path);
  refuseForeign(request, method);
  const segments = path.split('/').filter((segment) => segment !== '').map(decodeSegment);

  if (method === 'GET' && path === '/status') return json(200, store.status());
  if (method === 'GET' && path === '/config') return json(200, describeConfig(store, { origins: originsAsked(url.searchParams) }));
  if (method === 'GET' && path === '/metrics') {
    const text = renderMetrics({ status: store.status(), containers: engine.list().length, artifacts: await options.countArtifacts() });
    return { status: 200, body: text, contentType: METRICS_CONTENT_TYPE };
  }
  if (method === 'POST' && path === '/reload') {
    const result = await options.reload();
    return json(RELOAD_STATUS[result.status], describeResult(result));
  }
  if (segments[0] === 'containers') {
    if (segments.length === 1 && method === 'GET') return json(200, engine.list());
    if (segments.length === 1 && method === 'POST') {
      const body = await readJsonBody(request);
      const id = stringField(body, 'id');
      const runtime = body.runtime === undefined ? '' : stringField(body, 'runtime');
      const { container, result } = await engine.start(id, runtime);
      return json(201, { container, output: result.stdout });
    }
    const id = segments[1] ?? '';
    if (segments.length === 2 && method === 'DELETE') {
      const { container, result, gc } = await engine.stop(id);
      return json(200, { container, output: result.stdout, removed: gc.removed.map((artifact) => artifact.path) });
    }
    if (segments.length === 3 && segments[2] === 'exec' && method === 'POST') {
      const body = await readJsonBody(request);
      const args = body.args ?? [];
      if (!Array.isArray(args) || !args.every((arg) => typeof arg === 'string')) {
        throw new RequestError(400, 'ERR_BAD_REQUEST', '"args" must be an array of strings');
      }
      const result = await engine.exec(id, args);
      return json(200, { output: result.stdout, exitCode: result.exitCode });
    }
  }
  throw new RequestError(404, 'ERR_NOT_FOUND', `no route ${method} ${path}`);
}

/**
 * What `GET /config` answers: the live snapshot's generation, digest and commit time, its
 * config with every secret as `[redacted]`, the derived runtime table (paths, never a
 * token), and with `origins`, where each leaf came from (`explain()`, redacted too).
 */
export function describeConfig(store: ControlApiOptions['store'], options: { readonly origins: boolean }): Record<string, unknown> {
  // Captured once: every field below is of the same generation. explain() reads the
  // live config too, in this same turn: no commit can come between.
  const snapshot = store.load();
  const config = snapshot.redacted();
  return {
    generation: snapshot.generation,
    digest: snapshot.digest,
    committedAt: snapshot.committedAt,
    config,
    derived: snapshot.derived,
    // The redacted config has the same paths down to each secret, which is one leaf.
    ...(options.origins ? { origins: originsOf(store, config) } : {}),
  };
}

/** `?origins=1` (or `true`) asks for the origins; `0`, `false` or none does not; anything else is a bad request. */
function originsAsked(params: URLSearchParams): boolean {
  const value = params.get('origins');
  if (value === null || value === '0' || value === 'false') return false;
  if (value === '1' || value === 'true') return true;
  throw new RequestError(400, 'ERR_BAD_REQUEST', `origins must be 1 or 0, got ${JSON.stringify(value)}`);
}

/** Where one value of the live config came from: `store.explain()` without the pointer, which is its key. */
type ValueOrigin = Omit<Explanation, 'pointer'>;

/**
 * The origin of every leaf of `config`, by JSON Pointer: its value, the layer that set it
 * and where (file and position, variable, flag), and what lower layers it shadowed. An
 * array is a leaf (a higher layer's list replaces the whole list); so is an empty object.
 */
function originsOf(store: ControlApiOptions['store'], config: unknown): Record<string, ValueOrigin> {
  const origins: Record<string, ValueOrigin> = {};
  const visit = (value: unknown, pointer: string): void => {
    if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length > 0) {
      for (const [key, child] of Object.entries(value)) visit(child, `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`);
      return;
    }
    const { value: live, layer, origin, shadowed } = store.explain(pointer);
    origins[pointer] = { value: live, layer, origin, shadowed };
  };
  visit(config, '');
  return origins;
}

/** A reload result as JSON: status, the live generation and digest, and the error (if any) with its causes. */
export function describeResult(result: ReloadResult<unknown, unknown>): Record<string, unknown> {
  const error = 'error' in result && result.error !== undefined ? { error: describeError(result.error) } : {};
  return { status: result.status, generation: result.snapshot.generation, digest: result.snapshot.digest, ...error };
}

/** An error as JSON: code, message, and what a program needs from it (problems, failures, issues, the cause). */
export function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { code: 'ERR_UNKNOWN', message: String(error) };
  const code = (error as { code?: unknown }).code;
  const described: Record<string, unknown> = { code: typeof code === 'string' ? code : 'ERR_UNKNOWN', message: error.message };
  if (error instanceof RuntimeConfigError) described.problems = error.problems;
  if (isTxConfigError(error) && 'failures' in error && Array.isArray(error.failures)) {
    described.failures = (error.failures as readonly { participant: string | null; phase: string; error: unknown }[]).map((failure) => ({
      participant: failure.participant,
      phase: failure.phase,
      error: describeError(failure.error),
    }));
  }
  // A setting given twice (a flag and a file): both places, as data.
  if (isTxConfigError(error) && error.code === 'ERR_CONFLICT' && 'sides' in error) described.sides = error.sides;
  if (isTxConfigError(error) && 'issues' in error && Array.isArray(error.issues) && error.issues.length > 0) described.issues = error.issues;
  if (!('failures' in described) && error.cause !== undefined) described.cause = describeError(error.cause);
  return described;
}

/** Refuses what a web page could send: another `Host`, any `Origin`, a POST or DELETE that is not JSON. */
function refuseForeign(request: IncomingMessage, method: string): void {
  const port = request.socket.localPort;
  const host = request.headers.host;
  if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
    throw new RequestError(403, 'ERR_FORBIDDEN', `Host ${JSON.stringify(host ?? '')} is not this server`);
  }
  if (request.headers.origin !== undefined) throw new RequestError(403, 'ERR_FORBIDDEN', 'requests from web pages (with an Origin) are refused');
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if ((method === 'POST' || method === 'DELETE') && type !== 'application/json') {
    throw new RequestError(415, 'ERR_CONTENT_TYPE', `${method} requests must be "content-type: application/json"`);
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new RequestError(400, 'ERR_BAD_REQUEST', `malformed path segment ${JSON.stringify(segment)}`);
  }
}

function sendError(response: ServerResponse, error: unknown): void {
  const status =
    error instanceof RequestError
      ? error.status
      : error instanceof UnknownRuntimeError
        ? 422
        : error instanceof ContainerError
          ? CONTAINER_STATUS[error.code]
          : 500;
  if (status === 500) log('internal error: %O', error);
  if (response.headersSent || response.destroyed) {
    response.destroy(error instanceof Error ? error : undefined);
    return;
  }
  send(response, json(status, { error: describeError(error) }));
}

function send(response: ServerResponse, reply: Reply): void {
  if (reply.contentType !== undefined && typeof reply.body === 'string') {
    response.writeHead(reply.status, { 'content-type': reply.contentType });
    response.end(reply.body);
    return;
  }
  response.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8' });
  response.end(`${JSON.stringify(reply.body, null, 2)}\n`);
}

/** Reads a JSON object body of at most {@link MAX_BODY_BYTES}; an empty body is `{}`. */
async function readJsonBody(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new RequestError(413, 'ERR_BODY_TOO_LARGE', `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new RequestError(400, 'ERR_BAD_REQUEST', `request body is not JSON: ${(error as Error).message}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RequestError(400, 'ERR_BAD_REQUEST', 'request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

function stringField(body: Record<string, unknown>, key: string): string {
  const value = body[key];
  if (typeof value !== 'string') throw new RequestError(400, 'ERR_BAD_REQUEST', `"${key}" must be a string`);
  return value;
}
