#!/usr/bin/env node
// Runs every example, and every TypeScript snippet of the README, against the built
// package and fails unless each exits 0.
//
// Examples import the package by its name, `txconfig`, which Node resolves through this
// package's own `exports` to dist/: the build users install, not src/. Run after
// `npm run build && tsc -p tsconfig.examples.json` (npm test does).
//
// Usage: node scripts/run-examples.mjs [name ...]   (no names: all of them)
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * Everything CI runs: add an entry here and it is run, or the run fails. Nothing is
 * skipped: a listed example whose built file is missing is a failure.
 *
 * An example:         { name, file, args, timeoutMs }
 *   file:      the built entry point, relative to the repository root
 *   args:      command-line arguments
 *   timeoutMs: kill it and fail after this long
 * Markdown snippets:  { name, markdown, files, timeoutMs }
 *   markdown:  every ```ts block in this file runs as its own module (a block whose info
 *              string says `ts no-run` is reported as not run, never dropped silently)
 *   files:     written into the empty working directory each snippet runs in
 */
const EXAMPLES = [
  { name: 'store-demo', file: 'build/examples/store-demo.js', args: [], timeoutMs: 60_000 },
  { name: 'runtime-wrapper demo', file: 'build/examples/runtime-wrapper/daemon.js', args: ['demo'], timeoutMs: 120_000 },
  { name: 'README.md snippets', markdown: 'README.md', files: { 'config.json': '{}\n' }, timeoutMs: 60_000 },
];

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// An example that reaches into src/ or dist/ by path would not be testing the package.
const PRIVATE_IMPORT = /\bfrom\s+['"](\.\.?\/)+(src|dist)\//;

function runOne({ name, file, args = [], timeoutMs, cwd = root }) {
  const path = join(root, file);
  if (!existsSync(path)) return Promise.resolve({ name, ok: false, reason: `${file} does not exist (did tsc -p tsconfig.examples.json run?)` });
  // The entry point and every module beside or below it.
  const modules = readdirSync(dirname(path), { recursive: true }).filter((entry) => /\.[cm]?js$/.test(entry));
  const offender = modules.find((entry) => PRIVATE_IMPORT.test(readFileSync(join(dirname(path), entry), 'utf8')));
  if (offender !== undefined) {
    return Promise.resolve({ name, ok: false, reason: `${join(dirname(file), offender)} imports src/ or dist/ by path; import 'txconfig' instead` });
  }
  const started = Date.now();
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [path, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const ms = Date.now() - started;
      if (code === 0) resolvePromise({ name, ok: true, ms, output });
      else resolvePromise({ name, ok: false, ms, output, reason: signal === null ? `exited with ${code}` : `killed by ${signal} (timeout ${timeoutMs} ms?)` });
    });
  });
}

/**
 * The ```ts blocks of a markdown file, each compiled to build/snippets/ (inside the
 * package, so `import 'txconfig'` resolves to dist/ as for the examples), and each run in
 * a fresh working directory holding `files`.
 */
async function runMarkdown({ name, markdown, files = {}, timeoutMs }) {
  const source = join(root, markdown);
  if (!existsSync(source)) return [{ name, ok: false, reason: `${markdown} does not exist` }];
  const blocks = [...readFileSync(source, 'utf8').matchAll(/^```(ts|typescript)([^\n]*)\n([\s\S]*?)^```/gm)];
  if (blocks.length === 0) return [{ name, ok: false, reason: `${markdown} has no ts block: drop the entry or add one` }];
  const outDir = join(root, 'build', 'snippets');
  mkdirSync(outDir, { recursive: true });
  const results = [];
  for (const [index, block] of blocks.entries()) {
    const line = readFileSync(source, 'utf8').slice(0, block.index).split('\n').length;
    const label = `${name} #${index + 1} (${markdown}:${line})`;
    if (/\bno-run\b/.test(block[2])) {
      results.push({ name: label, ok: true, skipped: true });
      continue;
    }
    const { outputText, diagnostics = [] } = ts.transpileModule(block[3], {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      reportDiagnostics: true,
    });
    if (diagnostics.length > 0) {
      results.push({ name: label, ok: false, reason: ts.flattenDiagnosticMessageText(diagnostics[0].messageText, '\n') });
      continue;
    }
    const file = join('build', 'snippets', `${markdown.replace(/\W+/g, '-')}-${index + 1}.mjs`);
    writeFileSync(join(root, file), outputText);
    const cwd = mkdtempSync(join(tmpdir(), 'txconfig-snippet-'));
    try {
      for (const [fileName, content] of Object.entries(files)) writeFileSync(join(cwd, fileName), content);
      results.push(await runOne({ name: label, file, timeoutMs, cwd }));
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }
  return results;
}

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !EXAMPLES.some((example) => example.name === name));
if (unknown.length > 0) {
  console.error(`run-examples: no example named ${unknown.join(', ')}; known: ${EXAMPLES.map((e) => e.name).join(', ')}`);
  process.exit(1);
}
const selected = wanted.length === 0 ? EXAMPLES : EXAMPLES.filter((example) => wanted.includes(example.name));

let failed = 0;
// One at a time: examples may use signals, ports and temp directories of their own.
let total = 0;
let notRun = 0;
for (const example of selected) {
  const results = example.markdown === undefined ? [await runOne(example)] : await runMarkdown(example);
  for (const result of results) {
    total++;
    const timing = result.ms === undefined ? '' : ` (${(result.ms / 1000).toFixed(1)}s)`;
    if (result.skipped === true) {
      notRun++;
      console.log(`--    ${result.name}: marked no-run`);
    } else if (result.ok) {
      console.log(`ok    ${result.name}${timing}`);
    } else {
      failed++;
      console.error(`FAIL  ${result.name}${timing}: ${result.reason}`);
      if (result.output) console.error(result.output.trimEnd().replace(/^/gm, '      | '));
    }
  }
}
console.log(`\n${total - failed - notRun} of ${total} passed${notRun > 0 ? `, ${notRun} marked no-run` : ''}`);
if (failed > 0) process.exitCode = 1;
