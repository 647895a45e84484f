/**
 * Records the process's unhandled rejections while it is in scope (`using`). Node reports
 * one only after the microtask queue drains, so let a little time pass before reading
 * `reasons`.
 */
export function unhandledRejections(): { readonly reasons: unknown[] } & Disposable {
  const reasons: unknown[] = [];
  const record = (reason: unknown): void => {
    reasons.push(reason);
  };
  process.on('unhandledRejection', record);
  return { reasons, [Symbol.dispose]: () => process.off('unhandledRejection', record) };
}
