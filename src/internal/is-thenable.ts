/**
 * True for a promise or any other thenable: what callbacks of ours (commit hooks,
 * subscribers, `onOutcome`) may return. Checked by shape, not `instanceof Promise`, so a
 * promise of another realm or library is caught too, and its rejection never goes
 * unhandled.
 */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
