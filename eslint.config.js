// @ts-check
import { readFileSync, statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import ts from 'typescript';
import tseslint from 'typescript-eslint';

/**
 * The layers of src/, lowest first (docs/architecture.md, "Layers"). A file may import
 * from its own layer and the layers below it, never from one above; src/index.ts, the
 * barrel, sits above them all and nothing imports it.
 */
const LAYERS = [
  { name: 'ground', paths: ['src/errors.ts', 'src/origin.ts', 'src/file-system.ts', 'src/internal'] },
  { name: 'json', paths: ['src/json'] },
  { name: 'artifacts', paths: ['src/artifacts'] },
  { name: 'snapshot', paths: ['src/snapshot'] },
  { name: 'schema', paths: ['src/schema'] },
  { name: 'pipeline', paths: ['src/pipeline'] },
  { name: 'transaction', paths: ['src/transaction'] },
  { name: 'store', paths: ['src/store'] },
  { name: 'sources', paths: ['src/sources'] },
];

/** One `import-x/no-restricted-paths` zone a layer: everything above it, the barrel included, is out of bounds. */
const layerZones = LAYERS.map((layer, index) => {
  const above = LAYERS.slice(index + 1);
  return {
    target: layer.paths,
    from: [...above.flatMap((higher) => higher.paths), 'src/index.ts'],
    message: `Imports go down the layers (docs/architecture.md): ${layer.name} may not import from ${[...above.map((higher) => higher.name), 'the barrel'].join(', ')}.`,
  };
});

const tsconfig = ts.getParsedCommandLineOfConfigFile(resolve(import.meta.dirname, 'tsconfig.json'), {}, {
  ...ts.sys,
  onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
    throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
  },
});
// allowJs: the .js and .mjs files the TypeScript files import are followed too.
const compilerOptions = { ...tsconfig?.options, allowJs: true };

/** The repository file `specifier` names from `file`, or undefined for a package or an unresolvable name. */
function resolveLocal(specifier, file) {
  const resolved = ts.resolveModuleName(specifier, file, compilerOptions, ts.sys).resolvedModule;
  if (resolved === undefined || resolved.isExternalLibraryImport === true) return undefined;
  return resolve(resolved.resolvedFileName);
}

/** Every file a file imports, types included, by path; kept while the file's mtime stays. */
const importCache = new Map();
function importsOf(file) {
  let mtimeMs;
  try {
    mtimeMs = statSync(file).mtimeMs;
  } catch {
    return [];
  }
  const cached = importCache.get(file);
  if (cached?.mtimeMs === mtimeMs) return cached.imports;
  const imports = new Set();
  // preProcessFile lists `import type`, `export … from`, `import('…')` types and calls, and require().
  for (const { fileName } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
    const target = resolveLocal(fileName, file);
    if (target !== undefined) imports.add(target);
  }
  importCache.set(file, { mtimeMs, imports });
  return imports;
}

/** The shortest import route from `start` to `goal` (both included), or undefined. */
function routeBetween(start, goal) {
  const previous = new Map([[start, start]]);
  for (const queue = [start]; queue.length > 0; ) {
    const file = /** @type {string} */ (queue.shift());
    for (const next of importsOf(file)) {
      if (previous.has(next)) continue;
      previous.set(next, file);
      if (next === goal) {
        const route = [goal];
        for (let at = file; at !== start; at = /** @type {string} */ (previous.get(at))) route.unshift(at);
        return [start, ...route];
      }
      queue.push(next);
    }
  }
  return undefined;
}

/**
 * `import-x/no-cycle`, following type imports too. import-x's rule skips an `import type`
 * unconditionally (no option turns that off, up to 4.18.1), yet STYLE.md forbids every
 * circular import: a type-only cycle still ties two files into one.
 * @type {import('eslint').Rule.RuleModule}
 */
const noCycle = {
  meta: {
    type: 'problem',
    docs: { description: 'Forbid an import whose target imports this file back, type imports included.' },
    schema: [],
    messages: { cycle: 'Dependency cycle (type imports count): {{route}}' },
  },
  create(context) {
    const file = resolve(context.physicalFilename);
    const root = context.cwd;
    /** @param {import('estree').Node} node @param {unknown} specifier */
    const check = (node, specifier) => {
      if (typeof specifier !== 'string') return;
      const target = resolveLocal(specifier, file);
      if (target === undefined || target === file) return;
      const route = routeBetween(target, file);
      if (route === undefined) return;
      context.report({ node, messageId: 'cycle', data: { route: [file, ...route].map((at) => relative(root, at)).join(' → ') } });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => check(node, node.source?.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => check(node, node.source.type === 'Literal' ? node.source.value : undefined),
      CallExpression: (node) => {
        const [argument] = node.arguments;
        if (node.callee.type === 'Identifier' && node.callee.name === 'require' && argument?.type === 'Literal') check(node, argument.value);
      },
    };
  },
};

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'build/',
      'coverage/',
      'docs/api/',
      'node_modules/',
      // Outside every tsconfig on purpose: check-package type-checks them against the packed tarball.
      'scripts/package-consumer/*.{mts,cts}',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unnecessary-type-parameters': 'off',
      'no-restricted-syntax': ['error', 'TSEnumDeclaration', 'TSModuleDeclaration[kind="namespace"]'],
    },
  },
  {
    // No circular imports, and no import that runs up the layers (STYLE.md). Type imports
    // count for both: `import type` is erased at build time, but it ties the two files
    // together all the same. Every file type the repo has is followed.
    files: ['**/*.{ts,mts,cts,js,mjs,cjs}'],
    plugins: { 'import-x': importX, txconfig: { rules: { 'no-cycle': noCycle } } },
    settings: {
      'import-x/extensions': ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'],
      'import-x/external-module-folders': ['node_modules', 'node_modules/@types'],
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      // Replaced by txconfig/no-cycle, which also follows type imports (see above).
      'import-x/no-cycle': 'off',
      'txconfig/no-cycle': 'error',
      // no-restricted-paths checks every import declaration, `import type` included.
      'import-x/no-restricted-paths': ['error', { basePath: import.meta.dirname, zones: layerZones }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-floating-promises': 'error',
    },
  },
  {
    files: ['**/*.{js,mjs,cjs}'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    // Plain Node scripts outside the TypeScript project (scripts/, the package consumer).
    files: ['scripts/**/*.{js,mjs,cjs}'],
    languageOptions: {
      globals: { console: 'readonly', process: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' },
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', exports: 'writable', __dirname: 'readonly', __filename: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
