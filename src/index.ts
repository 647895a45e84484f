// The package's only barrel: every public name is listed here, explicitly.

export {
  ERROR_CODES,
  TxConfigError,
  isTxConfigError,
  ValidationError,
  ReloadError,
  TransactionStateError,
  SynchronizeError,
  ConfigurationError,
  ArgumentError,
  InternalError,
  ConfigFileError,
  ParseError,
  UnsafeKeyError,
  ArtifactError,
} from './errors.js';
export type {
  ErrorCode,
  ValidationIssue,
  FailurePhase,
  ReloadFailure,
  ReloadErrorCode,
  ConfigFileErrorCode,
  ArtifactErrorCode,
} from './errors.js';

// -- store and transactions --
export { ConfigStore } from './store/config-store.js';
export type {
  CreateOptions,
  ReloadOptions,
  ReloadResult,
  ReloadOutcome,
  ChangeEvent,
  ChangeListener,
  CollectGarbageOptions,
} from './store/config-store.js';
export type { Snapshot, CandidateSnapshot } from './snapshot/snapshot.js';
export type { DeepReadonly } from './snapshot/deep-readonly.js';
export type { Pin, SynchronizeOptions } from './store/pins.js';
export type { ConfigStatus, ReloadCounters, StatusError } from './store/status.js';
export type {
  ConfigSchema,
  ConfigOf,
  ConfigInputOf,
  FromSchema,
  FromSchemaInput,
  JsonSchema,
  StandardSchemaV1,
  StandardSchemaProps,
  StandardSchemaResult,
  StandardSchemaIssue,
} from './schema/schema-types.js';
export { Transaction, PreparedTransaction } from './transaction/transaction.js';
export type { TransactionState, Recipe, CommitResult } from './transaction/transaction.js';
export type { Participant, Prepared, PrepareContext, ArtifactWriter, DerivedOf } from './transaction/participant.js';

// -- artifacts --
export type {
  Artifact,
  ArtifactStore,
  ArtifactLease,
  PutOptions,
  GcRoot,
  GcRootKind,
  GcEntry,
  GcReport,
  ExternalRoot,
  CollectOptions,
} from './artifacts/artifact-store.js';
export { FsArtifactStore } from './artifacts/fs-artifact-store.js';
export type { FsArtifactStoreOptions } from './artifacts/fs-artifact-store.js';
export { MemoryArtifactStore } from './artifacts/memory-artifact-store.js';
export type { MemoryArtifactStoreOptions, MemoryArtifactFile } from './artifacts/memory-artifact-store.js';
export type { ArtifactFs } from './artifacts/atomic-write.js';

// -- sources --
export { readConfigFile, parseConfigText, DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH } from './sources/read-config-file.js';
export type { ReadConfigFileOptions, ParseConfigTextOptions } from './sources/read-config-file.js';
export { watchConfigFile } from './sources/watch-config-file.js';
export type {
  ConfigWatcher,
  ConfigChange,
  ConfigChangeHandler,
  WatchConfigFileOptions,
  WatchErrorContext,
  WatchErrorPhase,
} from './sources/watch-config-file.js';
export { reloadOnSignal } from './sources/reload-on-signal.js';
export type { ReloadRequester, ReloadRequestOutcome, ReloadOnSignalOptions, StopReloadOnSignal } from './sources/reload-on-signal.js';
