// The package's only barrel: every public name is listed here, explicitly.

export {
  ERROR_CODES,
  TxConfigError,
  isTxConfigError,
  hasErrorCode,
  isReloadError,
  ValidationError,
  ReloadError,
  TransactionStateError,
  SynchronizeError,
  ConfigurationError,
  MissingDependencyError,
  ConflictError,
  SecretError,
  ArgumentError,
  InternalError,
  ConfigFileError,
  ParseError,
  UnsafeKeyError,
  ArtifactError,
} from './errors.js';
export type {
  ErrorCode,
  CodeOf,
  ValidationIssue,
  FailurePhase,
  ReloadFailure,
  ReloadErrorCode,
  ConfigFileErrorCode,
  ArtifactErrorCode,
  ConflictSide,
} from './errors.js';

// -- store and transactions --
export { ConfigStore } from './store/config-store.js';
export type { ReloadOptions, ChangeListener, CollectGarbageOptions, StoreConfig, StoreDerived } from './store/config-store.js';
export type { CommonCreateOptions, CreateOptions } from './store/create-options.js';
export type { SecretOptions } from './store/store-secrets.js';
export type { SecretResolver, SecretReference } from './pipeline/resolve-secrets.js';
export type { ConfigSource, SourceReading } from './store/config-source.js';
export type { Origin, Origins, Provenance, LayerValue, Explanation } from './origin.js';
export type { Snapshot, CandidateSnapshot } from './snapshot/snapshot.js';
export type { DeepReadonly } from './snapshot/deep-readonly.js';
export type { Pin, SynchronizeOptions } from './store/pin-registry.js';
export type { ConfigStatus, ReloadCounters, StatusError } from './store/status-recorder.js';
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
export { Transaction } from './transaction/transaction.js';
export type { TransactionOptions } from './transaction/transaction.js';
export type { TransactionState } from './transaction/transaction-host.js';
export type { Recipe } from './pipeline/stage-input.js';
export { PreparedTransaction } from './transaction/prepared-transaction.js';
export type {
  ReloadResult,
  ReloadApplied,
  ReloadUnchanged,
  ReloadRejected,
  ReloadAborted,
  ReloadCommitted,
  ChangeEvent,
} from './transaction/reload-result.js';
export type { Participant, Prepared, PrepareContext, ArtifactWriter, DerivedOf } from './transaction/participant.js';
export { defaultFileSystem } from './file-system.js';
export type { FileSystem, FileStats } from './file-system.js';

// -- artifacts --
export { ArtifactStore } from './artifacts/artifact-store.js';
export type { ArtifactStoreOptions, PutOptions } from './artifacts/artifact-store.js';
export type { Artifact, ArtifactLease } from './artifacts/artifact.js';
export type { GcRoot, GcRootKind, GcEntry, GcReport, ExternalRoot, CollectOptions } from './artifacts/gc-report.js';
export type { ArtifactBackend, BackendFile, BackendCheckOptions, WriteIfAbsentOptions, WriteIfAbsentResult } from './artifacts/artifact-backend.js';
export { FsArtifactStore } from './artifacts/fs-artifact-store.js';
export type { FsArtifactStoreOptions } from './artifacts/fs-artifact-store.js';
export { MemoryArtifactStore } from './artifacts/memory-artifact-store.js';
export type { MemoryArtifactStoreOptions } from './artifacts/memory-artifact-store.js';

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
export { reloadOnFileChange } from './sources/reload-on-file-change.js';
export type { ReloadOnFileChangeOptions } from './sources/reload-on-file-change.js';
export { reloadOnSignal } from './sources/reload-on-signal.js';
export type { ReloadOnSignalOptions, StopReloadOnSignal } from './sources/reload-on-signal.js';
export type { ReloadRequester } from './sources/reload-requester.js';

// -- layers (DESIGN.md §5.2) --
export { layered } from './sources/layers/layered.js';
export type { LayeredOptions } from './sources/layers/layered.js';
export type { ConflictPolicy } from './sources/layers/layer-stack.js';
export { defaults } from './sources/layers/defaults.js';
export { file } from './sources/layers/file.js';
export type { FileLayerOptions } from './sources/layers/file.js';
export type { ConfigFormat } from './sources/formats/config-format.js';
export { directory } from './sources/layers/directory.js';
export type { DirectoryOptions } from './sources/layers/directory.js';
export { env } from './sources/layers/env.js';
export type { EnvOptions } from './sources/layers/env.js';
export { argv } from './sources/layers/argv.js';
export type { ArgvOptions } from './sources/layers/argv.js';

// -- secrets (DESIGN.md §5.3) --
export { fileSecrets, DEFAULT_SECRET_MAX_BYTES } from './sources/secrets/file-secrets.js';
export type { FileSecretsOptions } from './sources/secrets/file-secrets.js';
export { envSecrets } from './sources/secrets/env-secrets.js';
export type { EnvSecretsOptions } from './sources/secrets/env-secrets.js';
