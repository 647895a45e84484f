// Issue 7, part 2 at volume: the reload crash loop of test/reliability/crash-reload.test.ts
// with many more SIGKILLs. Run by `npm run test:soak`.
import { defineCrashLoopTest } from '../helpers/reload-crash.js';

defineCrashLoopTest(300, 1_800_000);
