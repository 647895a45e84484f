'use strict';
const assert = require('node:assert/strict');

/**
 * Fails unless two loads of the package are one module instance: the same export names,
 * each the very same object (so `instanceof ConfigStore` and module state are shared).
 * @param {object} viaImport the namespace `import` gave
 * @param {object} viaRequire what `require` returned
 * @param {string} order for the report
 */
exports.assertSameInstance = function assertSameInstance(viaImport, viaRequire, order) {
  const names = Object.keys(viaImport).sort();
  assert.deepEqual(Object.keys(viaRequire).sort(), names, 'import and require expose the same names');
  for (const name of names) assert.equal(viaRequire[name], viaImport[name], `${name} is the same object`);
  assert.ok(names.includes('ConfigStore'));
  console.log(`${order}: one instance (${names.length} exports, ConfigStore identical)`);
};
