// Issue 7, part 3 at volume: the history check of test/reliability/history.test.ts over
// many more random interleavings. Run by `npm run test:soak`.
import { defineHistoryTest } from '../helpers/history-harness.js';

defineHistoryTest(5_000, 1_800_000, 'history soak');
