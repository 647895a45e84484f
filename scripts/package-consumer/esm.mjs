// The ESM consumer: `import` first, then `require` of the same specifier from the same
// process, which must give the very same module instance.
import { createRequire } from 'node:module';
import * as viaImport from 'txconfig';
import exercise from './exercise.cjs';
import { assertSameInstance } from './same-instance.cjs';

await exercise(viaImport, 'import');
const require = createRequire(import.meta.url);
assertSameInstance(viaImport, require('txconfig'), 'import, then require');
