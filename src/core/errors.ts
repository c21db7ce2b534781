/**
 * Every error Flotilla reports to a caller, with a stable code, an HTTP status and a gRPC status.
 * Callers branch on `code`, never on the message. docs/errors.md lists the same catalogue.
 */

/** gRPC status codes by name (the numbers are the ones in grpc's status.proto). */
export const GRPC_STATUS = {
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

export type GrpcStatusName = keyof typeof GRPC_STATUS;

interface CatalogueEntry {
  readonly http: number;
  readonly grpc: GrpcStatusName;
  readonly summary: string;
}

/** The catalogue: code -> statuses and a one-line summary (documented in docs/errors.md). */
export const ERROR_CATALOGUE = {
  FLT_INVALID_JSON: { http: 400, grpc: 'INVALID_ARGUMENT', summary: 'The request body is not valid JSON.' },
  FLT_INVALID_FIELD: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    summary: 'A field of the request is missing, of the wrong type or out of range.',
  },
  FLT_INVALID_BINARY: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    summary: 'The binary tensor section does not match the sizes the JSON header announces.',
  },
  FLT_INVALID_PROTOBUF: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    summary:
      'A gRPC request is not valid protobuf: a field runs past its message, has the wrong wire type, or a string is not UTF-8.',
  },
  FLT_MISSING_INPUT: { http: 400, grpc: 'INVALID_ARGUMENT', summary: 'A model input was not supplied.' },
  FLT_UNKNOWN_INPUT: { http: 400, grpc: 'INVALID_ARGUMENT', summary: 'An input the model does not have.' },
  FLT_UNKNOWN_OUTPUT: { http: 400, grpc: 'INVALID_ARGUMENT', summary: 'An output the model does not have.' },
  FLT_DATATYPE_MISMATCH: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    summary: "An input's datatype differs from the model's.",
  },
  FLT_SHAPE_MISMATCH: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    summary: "The model cannot take the input's shape.",
  },
  FLT_DATA_SIZE_MISMATCH: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    summary: "The number of elements differs from what the input's shape holds.",
  },
  FLT_BATCH_TOO_LARGE: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    summary: "The batch dimension exceeds the model's max_batch_size.",
  },
  FLT_INVALID_MODEL_NAME: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    summary: 'A model name that is not a plain folder name (it could leave the repository).',
  },
  FLT_INVALID_VERSION: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    summary: 'A version that is not a positive integer.',
  },
  FLT_BODY_TOO_LARGE: {
    http: 413,
    grpc: 'RESOURCE_EXHAUSTED',
    summary: "The request body is larger than --max-body, or than its model's inputs can need.",
  },
  FLT_INVALID_HTTP: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    summary:
      'The request head breaks RFC 9112 (bare CR or LF, control character in a value, two Host lines, Content-Length with Transfer-Encoding…); answered, then the connection is closed.',
  },
  FLT_REQUEST_TIMEOUT: {
    http: 408,
    grpc: 'DEADLINE_EXCEEDED',
    summary:
      'The request head did not arrive within --header-timeout, or its body fell behind --body-timeout; the connection is closed.',
  },
  FLT_CLIENT_CLOSED: {
    http: 499,
    grpc: 'CANCELLED',
    summary:
      'The client closed the connection before its request was read; logged at debug level, never answered.',
  },
  FLT_INVALID_CLASSIFICATION: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    summary:
      "An output's `classification` (or `class_count`) parameter is not a positive integer, is larger than the output's class count, or asks to classify a BYTES output.",
  },
  FLT_UNKNOWN_SIGNATURE: {
    http: 400,
    grpc: 'FAILED_PRECONDITION',
    summary:
      'A TF Serving request names a signature the model does not have (only `serving_default`); gRPC answers FAILED_PRECONDITION as TF Serving does.',
  },
  FLT_UNKNOWN_VERSION_LABEL: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    summary:
      "A TF Serving request names a version label the model's `version_labels` does not define (400 / INVALID_ARGUMENT, as TF Serving answers).",
  },
  FLT_MODEL_NOT_FOUND: { http: 404, grpc: 'NOT_FOUND', summary: 'No model of that name is known.' },
  FLT_VERSION_NOT_FOUND: { http: 404, grpc: 'NOT_FOUND', summary: 'The model has no such version.' },
  FLT_ROUTE_NOT_FOUND: { http: 404, grpc: 'UNIMPLEMENTED', summary: 'No endpoint at that path.' },
  FLT_METHOD_NOT_ALLOWED: {
    http: 405,
    grpc: 'UNIMPLEMENTED',
    summary: 'The endpoint does not take that method.',
  },
  FLT_MODEL_NOT_READY: {
    http: 503,
    grpc: 'UNAVAILABLE',
    summary: 'The model (version) exists but cannot answer yet: loading or unloading.',
  },
  FLT_MODEL_FAILED: {
    http: 409,
    grpc: 'FAILED_PRECONDITION',
    summary:
      'The model (version) failed to load; the message says why. Not retried: it answers the same until the repository is fixed.',
  },
  FLT_SHUTTING_DOWN: {
    http: 503,
    grpc: 'UNAVAILABLE',
    summary: 'The server is draining and takes no new work.',
  },
  FLT_OVERLOADED: {
    http: 503,
    grpc: 'UNAVAILABLE',
    summary:
      'The unfinished requests held in memory over all connections reached --max-request-memory; retry after Retry-After.',
  },
  FLT_QUEUE_FULL: {
    http: 503,
    grpc: 'UNAVAILABLE',
    summary: "The model's batching queue holds max_queue_size requests already.",
  },
  FLT_ACTIVATION_QUEUE_FULL: {
    http: 503,
    grpc: 'UNAVAILABLE',
    summary: 'A variant is starting replicas and its activator queue is full; retry after Retry-After.',
  },
  FLT_ACTIVATION_TIMEOUT: {
    http: 503,
    grpc: 'UNAVAILABLE',
    summary: 'No replica of the variant became ready within the activator timeout; retry after Retry-After.',
  },
  FLT_QUEUE_TIMEOUT: {
    http: 503,
    grpc: 'DEADLINE_EXCEEDED',
    summary: 'The request waited longer than queue_timeout_us for an instance.',
  },
  FLT_UNAUTHENTICATED: {
    http: 401,
    grpc: 'UNAUTHENTICATED',
    summary: 'An admin endpoint was called without the right bearer token.',
  },
  FLT_ADMIN_DISABLED: {
    http: 403,
    grpc: 'PERMISSION_DENIED',
    summary: 'Admin endpoints are off because no admin token is set.',
  },
  FLT_CSRF_REJECTED: {
    http: 403,
    grpc: 'PERMISSION_DENIED',
    summary:
      "A dashboard session's state-changing call without the session's CSRF header or from another Origin.",
  },
  FLT_MODEL_LOAD_FAILED: { http: 500, grpc: 'INTERNAL', summary: 'A model version failed to load.' },
  FLT_INFERENCE_FAILED: {
    http: 500,
    grpc: 'INTERNAL',
    summary: 'The backend failed while running the model.',
  },
  FLT_INTERNAL: { http: 500, grpc: 'INTERNAL', summary: 'A bug: an invariant did not hold.' },
  FLT_CONFIG_INVALID: {
    http: 400,
    grpc: 'FAILED_PRECONDITION',
    summary: 'A model config or service file is invalid; the message names file, field and value.',
  },
  FLT_SERVICE_NOT_FOUND: {
    http: 404,
    grpc: 'NOT_FOUND',
    summary:
      'The gateway has no service for this host, path or model name; the message lists the known ones.',
  },
  FLT_VARIANT_NOT_FOUND: {
    http: 404,
    grpc: 'NOT_FOUND',
    summary: 'The service has no variant of the tag named (x-flotilla-variant or the admin API).',
  },
  FLT_NO_REPLICA: {
    http: 503,
    grpc: 'UNAVAILABLE',
    summary: 'The variant chosen has no replica to send the request to.',
  },
  FLT_NOT_THROUGH_GATEWAY: {
    http: 404,
    grpc: 'UNIMPLEMENTED',
    summary:
      "A call that acts on one server (repository load or unload), or asks for every model's statistics, was sent to the gateway; send it to a replica.",
  },
  FLT_REPLICA_FAILED: {
    http: 503,
    grpc: 'UNAVAILABLE',
    summary:
      "The variant's replicas cannot start (a missing model or version, a wrong repository, a crash loop); the message gives the replica's last error. Requests fail at once until a replica is ready.",
  },
  FLT_SCALE_LIMIT: {
    http: 409,
    grpc: 'FAILED_PRECONDITION',
    summary:
      "A scale request above the variant's max or what the machine holds; nothing was changed. The message gives the limit; --force pins the most allowed.",
  },
  FLT_UPSTREAM_FAILED: {
    http: 502,
    grpc: 'UNAVAILABLE',
    summary: 'The gateway could not get an answer from a replica (connection refused or reset) on any try.',
  },
  FLT_UPSTREAM_TIMEOUT: {
    http: 504,
    grpc: 'DEADLINE_EXCEEDED',
    summary: 'A replica did not answer within the per-try or overall timeout.',
  },
  FLT_BENCH_INVALID_ARGUMENT: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    summary: 'A `flotilla bench` flag or input file cannot work; the message names the flag, value and rule.',
  },
  FLT_BENCH_UNREACHABLE: {
    http: 503,
    grpc: 'UNAVAILABLE',
    summary:
      '`flotilla bench` could not reach the target (refused, unknown host or no answer) before starting.',
  },
  FLT_RENDER_UNMAPPABLE: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    summary:
      '`flotilla render` cannot express the input on the target: a field with no equivalent, a name that is not a DNS-1123 label, a flag missing or out of place; the message names field and target.',
  },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** Base of every error Flotilla raises on purpose. */
export class FlotillaError extends Error {
  readonly code: ErrorCode;
  readonly httpStatus: number;
  readonly grpcStatus: number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.httpStatus = ERROR_CATALOGUE[code].http;
    this.grpcStatus = GRPC_STATUS[ERROR_CATALOGUE[code].grpc];
  }
}

type CodesWithStatus<S extends number> = {
  [C in ErrorCode]: (typeof ERROR_CATALOGUE)[C]['http'] extends S ? C : never;
}[ErrorCode];

/** The caller sent something wrong (HTTP 400 / 413). */
export class InvalidRequestError extends FlotillaError {
  constructor(code: CodesWithStatus<400 | 413>, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The thing named does not exist (HTTP 404 / 405). */
export class NotFoundError extends FlotillaError {
  constructor(code: CodesWithStatus<404 | 405>, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** It exists but cannot answer now; retrying later may work (HTTP 503). */
export class UnavailableError extends FlotillaError {
  /** Seconds the client is told to wait before retrying (`Retry-After`), when known. */
  readonly retryAfterS: number | undefined;

  constructor(
    code: CodesWithStatus<503>,
    message: string,
    options?: { cause?: unknown; retryAfterS?: number },
  ) {
    super(code, message, options);
    this.retryAfterS = options?.retryAfterS;
  }
}

/**
 * It exists, but in a state no retry changes until an operator acts (HTTP 409): a 4xx, so a
 * gateway neither retries it nor counts it against the replica's health.
 */
export class ConflictError extends FlotillaError {
  constructor(code: CodesWithStatus<409>, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The caller is not allowed to do this (HTTP 401 / 403). */
export class AccessDeniedError extends FlotillaError {
  constructor(code: CodesWithStatus<401 | 403>, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** Flotilla or a backend failed (HTTP 500). */
export class InternalError extends FlotillaError {
  constructor(code: CodesWithStatus<500>, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** A model config or service file is invalid; the message names the file, field and value. */
export class ConfigError extends FlotillaError {
  readonly file: string;
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super('FLT_CONFIG_INVALID', `${file}: ${message}`, options);
    this.file = file;
  }
}

/**
 * A command-line flag (or argument) that cannot work, found before anything started: the CLI
 * prints one line, `flotilla <command>: <message>`, and exits 2 (as `flotilla bench` does).
 * `flag` names what to change, e.g. `--http-port`.
 */
export class UsageError extends FlotillaError {
  readonly flag: string;
  constructor(flag: string, message: string, options?: { cause?: unknown }) {
    super('FLT_CONFIG_INVALID', message, options);
    this.flag = flag;
  }
}

/** Any thrown value as a FlotillaError; unknown errors become FLT_INTERNAL and keep their cause. */
export function asFlotillaError(err: unknown): FlotillaError {
  if (err instanceof FlotillaError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new InternalError('FLT_INTERNAL', message, { cause: err });
}
