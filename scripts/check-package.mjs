#!/usr/bin/env node
// Checks the package as users get it: packs it, inspects the tarball, installs it into a
// fresh temporary project (runtime dependencies from the registry), then uses it there
// by `import` from ESM and by `require` from CommonJS, checks that both give one module
// instance, and type-checks a strict TypeScript consumer (and the README's snippets)
// against the shipped .d.ts, with our TypeScript and with the oldest one the README
// promises (pinned in scripts/package-consumer/package.json). Also checks that every
// README link works from the npm page.
//
// Run after `npm run build` (npm test does). Usage: node scripts/check-package.mjs [--keep]
// --keep leaves the temporary project in place and prints its path.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import process from 'node:process';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const consumerSources = join(root, 'scripts', 'package-consumer');
const keep = process.argv.includes('--keep');
const started = Date.now();

// Files the tarball must hold, and patterns it must not.
const REQUIRED_FILES = ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'dist/index.js', 'dist/index.d.ts'];
const FORBIDDEN = [/^test\//, /^scripts\//, /^coverage\//, /^build\//, /\.test(-d)?\.[cm]?[jt]s$/, /\.tsbuildinfo$/, /(^|\/)node_modules\//];

function step(message) {
  console.log(`\n[check-package +${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);
}

class CheckFailed extends Error {}

/** Stops the check; the temporary project is still removed (unless --keep). */
function fail(message) {
  throw new CheckFailed(message);
}

function run(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
  if (result.error !== undefined) fail(`${command} ${args.join(' ')}: ${result.error.message}`);
  if (result.status !== 0) fail(`${command} ${args.join(' ')} (in ${cwd}) exited with ${result.status}:\n${output}`);
  if (output !== '') console.log(output.replace(/^/gm, '  '));
  return result.stdout;
}

/**
 * Writes every ```ts block of the README into `dir` as a module of its own, so the
 * snippets users copy are type-checked against the types they will install. Returns
 * their file names. (scripts/run-examples.mjs runs them.)
 */
function readmeSnippets(dir) {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  return [...readme.matchAll(/^```(?:ts|typescript)[^\n]*\n([\s\S]*?)^```/gm)].map(([, code], index) => {
    const fileName = `readme-${index + 1}.mts`;
    writeFileSync(join(dir, fileName), `${code}export {};\n`);
    return fileName;
  });
}

/**
 * Every link target of a markdown file with its line: inline links and images, reference
 * definitions, autolinks, and href/src attributes; code blocks and code spans are not
 * links. Line numbers stay right: code is blanked, never removed.
 */
function markdownLinks(markdown) {
  const blank = (text) => text.replace(/[^\n]/g, ' ');
  const prose = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, blank).replace(/`[^`\n]*`/g, blank);
  const patterns = [
    /!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+["'(][^)]*)?\)/g,
    /^ {0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?/gm,
    /<([a-z][a-z0-9+.-]*:[^\s>]+)>/gi,
    /\b(?:href|src)\s*=\s*["']([^"']*)["']/gi,
  ];
  return patterns.flatMap((pattern) =>
    [...prose.matchAll(pattern)].map((match) => ({ target: match[1], line: prose.slice(0, match.index).split('\n').length })),
  );
}

/**
 * The README as readers meet it on npm, which serves no file of the package as a page:
 * a link to a doc that is not shipped must be absolute. A relative link is allowed only
 * to a file the tarball ships (it then works in node_modules as on GitHub), and a link
 * into this repository (`<repository>/blob/main/<path>` or `tree/main`) must name a path
 * that exists here, so a renamed doc is caught before release. Returns the problems.
 */
function readmeLinkProblems(shipped) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const problems = [];
  const repositoryUrl = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
  if (typeof repositoryUrl !== 'string') problems.push('package.json has no "repository": the npm page links nowhere');
  if (typeof pkg.homepage !== 'string') problems.push('package.json has no "homepage"');
  if (typeof (typeof pkg.bugs === 'string' ? pkg.bugs : pkg.bugs?.url) !== 'string') problems.push('package.json has no "bugs" URL');
  // git+https://github.com/o/r.git -> https://github.com/o/r
  const repository = repositoryUrl?.replace(/^git\+/, '').replace(/\.git$/, '');
  for (const { target, line } of markdownLinks(readFileSync(join(root, 'README.md'), 'utf8'))) {
    const where = `README.md:${line}: ${target}`;
    if (target.startsWith('#')) continue; // a heading of the page itself
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
      const own = repository === undefined ? undefined : /^\/(?:blob|tree)\/main\/([^?#]*)/.exec(target.startsWith(repository) ? target.slice(repository.length) : '');
      if (own !== undefined && own !== null && !existsSync(join(root, decodeURIComponent(own[1])))) {
        problems.push(`${where} names ${decodeURIComponent(own[1])}, which this repository does not have`);
      }
      continue;
    }
    const path = posix.normalize(decodeURIComponent(target.split(/[?#]/)[0])).replace(/\/$/, '');
    if (!shipped.has(path)) {
      problems.push(`${where} is relative and the tarball does not ship ${path}: dead on the npm page; link ${repository ?? '<repository>'}/blob/main/${path}`);
    }
  }
  return problems;
}

// -- preconditions --
const [major, minor] = process.versions.node.split('.').map(Number);
const precondition =
  major < 20 || (major === 20 && minor < 19)
    ? `Node >= 20.19 is needed for require(esm); this is ${process.versions.node}`
    : existsSync(join(root, 'dist', 'index.js'))
      ? undefined
      : 'dist/index.js is missing: run `npm run build` first';
if (precondition !== undefined) {
  console.error(`check-package: FAILED: ${precondition}`);
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), 'txconfig-package-'));
try {
  // -- pack --
  step('npm pack');
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8' }));
  const { filename, files, size, unpackedSize, name, version } = packed[0];
  const tarball = join(work, filename);
  const paths = new Set(files.map((file) => file.path));
  console.log(`  ${filename}: ${files.length} files, ${(size / 1024).toFixed(1)} kB packed, ${(unpackedSize / 1024).toFixed(1)} kB unpacked`);
  for (const required of REQUIRED_FILES) if (!paths.has(required)) fail(`the tarball lacks ${required}`);
  for (const path of paths) for (const pattern of FORBIDDEN) if (pattern.test(path)) fail(`the tarball holds ${path}, which users do not need`);

  step('every README link works from the npm page; repository, homepage and bugs are set');
  const linkProblems = readmeLinkProblems(paths);
  if (linkProblems.length > 0) fail(`${linkProblems.length} README link problem(s):\n  ${linkProblems.join('\n  ')}`);

  // -- install into a fresh project --
  step('install the tarball into a fresh project');
  const consumer = join(work, 'consumer');
  mkdirSync(consumer);
  // Its package.json pins the oldest TypeScript supported, which installs along with the tarball.
  for (const file of readdirSync(consumerSources)) copyFileSync(join(consumerSources, file), join(consumer, file));
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--no-package-lock', tarball], consumer);
  const installed = join(consumer, 'node_modules', name);
  const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));
  const installedVersion = readJson(join(installed, 'package.json')).version;
  if (installedVersion !== version) fail(`installed ${name}@${installedVersion}, packed ${version}`);

  // Declaration and source maps point into the package: every source they name must ship.
  for (const path of paths) {
    if (!path.endsWith('.map')) continue;
    const map = readJson(join(installed, path));
    for (const source of map.sources) {
      const target = posix.join(posix.dirname(path), map.sourceRoot ?? '', source);
      if (!paths.has(target)) fail(`${path} maps to ${target}, which the tarball lacks`);
    }
  }

  // -- use it --
  step('use it by import from ESM (then require: one instance)');
  run('node', ['esm.mjs'], consumer);
  step('use it by require from CommonJS (then import: one instance)');
  run('node', ['cjs.cjs'], consumer);

  // -- types, as a strict consumer sees them --
  step('type-check a strict TypeScript consumer and the README snippets (skipLibCheck off)');
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      lib: ['ES2023', 'ESNext.Disposable'],
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      skipLibCheck: false,
      noEmit: true,
      // Node's types are the consumer's own business; borrow ours rather than download them.
      typeRoots: [join(root, 'node_modules', '@types')],
      types: ['node'],
    },
    files: ['types.mts', 'types.cts', ...readmeSnippets(consumer)],
  };
  writeFileSync(join(consumer, 'tsconfig.json'), `${JSON.stringify(tsconfig, null, 2)}\n`);
  run('node', [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], consumer);

  // The oldest TypeScript the README promises, pinned by the consumer's own package.json
  // (not a devDependency of ours: a second `typescript` there would fight ours for
  // node_modules/.bin/tsc). It must type-check the very same consumer.
  const oldest = readJson(join(consumer, 'node_modules', 'typescript', 'package.json')).version;
  step(`type-check the same consumer with the oldest TypeScript supported (${oldest})`);
  const promised = /TypeScript (\d+\.\d+) or later/.exec(readFileSync(join(root, 'README.md'), 'utf8'))?.[1];
  if (promised === undefined) fail('README.md does not state the minimum TypeScript version ("TypeScript X.Y or later")');
  if (!oldest.startsWith(`${promised}.`)) fail(`README.md promises TypeScript ${promised} or later, but scripts/package-consumer/package.json pins ${oldest}`);
  run('node', [join(consumer, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], consumer);

  step(`ok: ${name}@${version} installs, imports, requires (one instance) and type-checks (TypeScript ${oldest} and later)`);
} catch (error) {
  console.error(`\ncheck-package: FAILED: ${error instanceof CheckFailed ? error.message : error}`);
  process.exitCode = 1;
} finally {
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
