interface Pending<R> {
  task: () => Promise<R>;
  promise: Promise<R>;
}

/**
 * Coalesces bursts of requests: while one task runs, every further request joins one
 * pending run that starts when the current one ends, with the most recent task. A burst
 * of any size during a run therefore causes at most one more run.
 *
 * Tasks must not reject (the store's tasks resolve to an outcome).
 */
export class RequestCoalescer<R> {
  // The run in progress, or null when idle.
  #running: Promise<R> | null = null;
  // The one run queued behind it, or null; every request during #running joins it.
  #pending: Pending<R> | null = null;

  /** Runs `task` now, or joins the single run queued behind the current one. */
  run(task: () => Promise<R>): Promise<R> {
    if (this.#pending !== null) {
      this.#pending.task = task;
      return this.#pending.promise;
    }
    const running = this.#running;
    if (running === null) return this.#start(task);
    const pending = { task } as Pending<R>;
    pending.promise = running.then(() => {
      this.#pending = null;
      return this.#start(pending.task);
    });
    this.#pending = pending;
    return pending.promise;
  }

  #start(task: () => Promise<R>): Promise<R> {
    const run = task();
    this.#running = run;
    void run.then(() => {
      if (this.#running === run) this.#running = null;
    });
    return run;
  }
}
