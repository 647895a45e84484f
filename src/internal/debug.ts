import createDebug from 'debug';

/** The `debug` loggers, one per folder: enable with `DEBUG=txconfig:*`. */
export const log = {
  store: createDebug('txconfig:store'),
  transaction: createDebug('txconfig:transaction'),
  artifacts: createDebug('txconfig:artifacts'),
  sources: createDebug('txconfig:sources'),
} as const;
