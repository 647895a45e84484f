// Issue 7, part 5 (the small run): reloads with subscribers, pins taken and released and
// artifacts written, in a child process with --expose-gc; the store itself retains no old
// snapshot. The 100,000-reload soak is test/soak/retention.soak.ts (npm run test:soak).
import { expect, it } from 'vitest';

import { describeRetention, expectNothingRetained, runRetention } from '../helpers/retention.js';

const RELOADS = 5_000;

it(`retains no old snapshot over ${RELOADS} reloads with subscribers and pins`, { timeout: 120_000 }, async () => {
  const report = await runRetention(RELOADS);
  console.log(describeRetention(report));
  expectNothingRetained(report);
  // Loose here (warm-up still grows the heap at this size); the soak bounds the slope.
  expect(report.heapFinal - report.heapBaseline).toBeLessThan(4 * 2 ** 20);
});
