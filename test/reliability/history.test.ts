// Issue 7, part 3: property-based history checking (fast-check). Random interleavings of
// readers holding snapshots across awaits, pins, leases, reloads (valid, invalid, failing
// in a participant, unchanged, aborted, rolled back), requestReload bursts and garbage
// collections, with the scheduler choosing the order of every pause and of the artifact
// store's file system calls. The checks are in test/helpers/history-harness.ts.
// The soak run (npm run test:soak) runs many more cases: test/soak/history.soak.ts.
import { defineHistoryTest } from '../helpers/history-harness.js';

defineHistoryTest(200, 120_000, 'history');
