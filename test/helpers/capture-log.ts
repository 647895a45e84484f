/**
 * Captures what a `debug` logger of ours writes (`log.sources`), so a test can check
 * that a failure was logged rather than swallowed. Restores the logger on dispose.
 */
import { format } from 'node:util';
import type { Debugger } from 'debug';

export interface CapturedLog extends Disposable {
  /** Every line written since the capture began, formatted as the terminal would show it. */
  readonly lines: string[];
}

export function captureLog(logger: Debugger): CapturedLog {
  const lines: string[] = [];
  const previousLog = logger.log;
  logger.enabled = true;
  logger.log = (...args: unknown[]): void => {
    lines.push(format(...args));
  };
  return {
    lines,
    [Symbol.dispose]: () => {
      logger.log = previousLog;
      // null hands the decision back to DEBUG, as before the capture.
      (logger as { enabled: boolean | null }).enabled = null;
    },
  };
}
