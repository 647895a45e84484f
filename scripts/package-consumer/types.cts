// The CommonJS side of the type check: `require` of the ESM package type-checks under
// `module: nodenext` (TypeScript >= 5.8), as it runs under Node >= 20.19.
import txconfig = require('txconfig');

export const isError: (value: unknown) => boolean = txconfig.isTxConfigError;
export type Store = txconfig.ConfigStore<{ readonly port: number }>;
