// Drives the installed package the way a daemon would: cold start with a participant
// that writes an artifact, a reload by recipe, a rejected reload that changes nothing,
// and a garbage collection. Shared by the ESM and the CommonJS consumer so both prove
// the same thing. CommonJS itself, so both can load it without require(esm).
'use strict';
const assert = require('node:assert/strict');

/**
 * @param {typeof import('txconfig')} txconfig the package, however it was loaded
 * @param {string} how `import` or `require`, for the report
 */
module.exports = async function exercise(txconfig, how) {
  const { ConfigStore, MemoryArtifactStore, ReloadError, isTxConfigError, parseConfigText } = txconfig;
  const schema = {
    type: 'object',
    properties: {
      name: { type: 'string', minLength: 1 },
      port: { type: 'integer', minimum: 1, maximum: 65535, default: 8080 },
    },
    required: ['name'],
    additionalProperties: false,
  };
  const banner = {
    name: 'banner',
    async prepare(ctx) {
      const artifact = await ctx.artifacts.put('banner', `${ctx.config.name}:${ctx.config.port}\n`);
      return { derived: { path: artifact.path } };
    },
  };
  const artifacts = new MemoryArtifactStore();
  const store = await ConfigStore.create({ schema, initial: parseConfigText('{"name": "demo"}'), participants: [banner], artifacts });

  const first = store.load();
  assert.equal(first.generation, 1);
  assert.equal(first.config.port, 8080, 'ajv applied the default');
  assert.ok(Object.isFrozen(first.config), 'snapshots are frozen');
  assert.match(first.derived.banner.path, /^memory:banner-[0-9a-f]{64}$/);

  const result = await store.reload((draft) => {
    draft.port = 9090;
  });
  assert.equal(result.status, 'applied');
  assert.equal(store.load().config.port, 9090);

  await assert.rejects(store.reload({ name: 'demo', port: 0 }), (error) => {
    assert.ok(error instanceof ReloadError);
    assert.ok(isTxConfigError(error));
    assert.equal(error.code, 'ERR_VALIDATION');
    return true;
  });
  assert.equal(store.load(), result.snapshot, 'a rejected reload leaves the very same snapshot');

  const report = await store.collectGarbage();
  assert.deepEqual(
    report.removed.map((artifact) => artifact.path),
    first.artifacts.map((artifact) => artifact.path),
    'the first generation’s artifact is collected, the live one kept',
  );
  console.log(`${how}: used the package (generation ${store.load().generation}, ${report.removed.length} artifact collected)`);
};
