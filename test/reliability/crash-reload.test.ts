// Issue 7, part 2: a daemon killed with SIGKILL in the middle of reloads and artifact
// writes (the runtime-wrapper plugin), restarted with the keep-list of its running
// containers: nothing referenced is missing, nothing corrupt or temporary remains.
// The loop is in test/helpers/reload-crash.ts; the soak (npm run test:soak) runs more kills.
// SIGKILL tests atomicity against a process crash, not power loss.
import { defineCrashLoopTest } from '../helpers/reload-crash.js';

defineCrashLoopTest(30, 300_000);
