// Issue 7, part 5: 100,000 reloads with subscribers, pins taken and released, artifacts
// written and collected; the heap after a forced GC stays flat. Run by `npm run test:soak`.
import { expect, it } from 'vitest';

import { describeRetention, expectNothingRetained, runRetention } from '../helpers/retention.js';

const RELOADS = 100_000;

it(`keeps the heap flat over ${RELOADS} reloads with subscribers and pins`, { timeout: 600_000 }, async () => {
  const report = await runRetention(RELOADS);
  console.log(describeRetention(report));
  expectNothingRetained(report);
  // From the first checkpoint (10% in, after warm-up) to the end: 90,000 reloads. A
  // retained snapshot costs kilobytes here (40 upstreams, a 50-item list, derived state),
  // so 1 MiB bounds any leak to under 12 bytes a reload.
  const first = report.checkpoints[0]!;
  expect(first.reloads).toBe(RELOADS / 10);
  expect(report.heapFinal - first.heapUsed).toBeLessThan(2 ** 20);
  for (const checkpoint of report.checkpoints) expect(checkpoint.heapUsed - first.heapUsed).toBeLessThan(2 ** 20);
});
