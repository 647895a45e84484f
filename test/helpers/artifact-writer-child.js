// A child process for test/artifacts/crash.test.ts: opens an artifact store (with the
// restart clean-up) and writes artifacts of random sizes until it is killed.
// It imports the BUILT package, as a daemon would.
import { randomBytes, randomInt } from 'node:crypto';
import process from 'node:process';

import { FsArtifactStore } from '../../dist/index.js';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: artifact-writer-child.mjs <dir>');

const store = await FsArtifactStore.open(dir, { removeUnkept: true });
process.stdout.write('writing\n');

const script = '#!/bin/sh\nexec /usr/bin/runc "$@"\n';
for (let i = 0; ; i++) {
  // Mostly fresh random content; sometimes content already stored, to crash during reuse too.
  const content = i % 5 === 4 ? script : randomBytes(randomInt(0, 512 * 1024));
  await store.put(`crash-${i % 7}`, content, { mode: 0o700 });
  if (i % 11 === 10) await store.collect();
}
