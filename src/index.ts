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

// -- sources --
