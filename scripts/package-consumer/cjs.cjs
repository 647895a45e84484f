// The CommonJS consumer: `require` of the ESM package (Node >= 20.19: require(esm) of a
// graph without top-level await), then `import()` of it, which must give the very same
// module instance.
'use strict';
const exercise = require('./exercise.cjs');
const { assertSameInstance } = require('./same-instance.cjs');

const viaRequire = require('txconfig');
const { version } = require('txconfig/package.json');

async function main() {
  await exercise(viaRequire, 'require');
  assertSameInstance(await import('txconfig'), viaRequire, 'require, then import');
  console.log(`require: txconfig/package.json says ${version}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
