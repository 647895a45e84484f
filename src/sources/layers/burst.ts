/**
 * Coalescing a burst of change events into one call: once no event came for the quiet
 * period, or at the latest `maxWaitMs` after the first. Internal to the layers.
 */

/** A burst coalescer: `touch` on every event; `stop` cancels what is pending. */
export interface BurstCoalescer {
  readonly touch: () => void;
  readonly stop: () => void;
}

/** Calls `onBurst` once per burst of `touch` calls: `quietMs` after the last, at most `maxWaitMs` after the first. */
export function burstCoalescer(quietMs: number, onBurst: () => void, maxWaitMs = Math.max(1000, quietMs)): BurstCoalescer {
  let timer: NodeJS.Timeout | undefined;
  let first = 0;
  let stopped = false;
  const fire = (): void => {
    timer = undefined;
    if (!stopped) onBurst();
  };
  return {
    touch: () => {
      if (stopped) return;
      const now = Date.now();
      if (timer === undefined) first = now;
      else clearTimeout(timer);
      timer = setTimeout(fire, Math.max(0, Math.min(quietMs, first + maxWaitMs - now)));
      timer.unref();
    },
    stop: () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}
