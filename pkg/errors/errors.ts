// One catalogue of signpost's errors, each with a stable code, so that a user who sees one in a
// log line or on stderr can look it up and knows what to fix. Add a code here before using it.

export const errorCodes = {
  /** An API object failed conversion into pkg/model: a field is missing or malformed. */
  SP_INVALID_OBJECT: "an API object is malformed",
  /** A command-line flag is unknown or has a bad value. */
  SP_BAD_FLAG: "a command-line flag is unknown or malformed",
  /** A configuration file is unreadable, malformed or names an unsupported field. */
  SP_BAD_CONFIG: "a configuration file is invalid",
  /** A kubeconfig file could not be loaded or lacks a field. */
  SP_BAD_KUBECONFIG: "a kubeconfig is invalid",
  /** The API server answered a list or watch with an error. */
  SP_API_ERROR: "the API server returned an error",
  /** An external binary (iptables-restore, conntrack, etcd...) failed. */
  SP_EXEC_FAILED: "an external command failed",
  /** signpost-dns would forward to itself: an upstream is its own address, or (found at run time) relays its queries back. */
  SP_DNS_LOOP: "the DNS upstream is signpost-dns itself, or sends its queries back to it",
  /** A listening socket could not be opened: the address is taken or not on this host. */
  SP_LISTEN: "a server could not listen on its address",
  /** The test cluster launcher could not start or stop a component. */
  SP_CLUSTER: "the local control plane failed",
} as const;

export type ErrorCode = keyof typeof errorCodes;

export class SignpostError extends Error {
  readonly code: ErrorCode;
  /** Where the problem is: a flag, a file and field, an object key and JSON path. */
  readonly where: string;

  constructor(code: ErrorCode, where: string, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${where}: ${message}`, options);
    this.name = "SignpostError";
    this.code = code;
    this.where = where;
  }
}

export function isSignpostError(err: unknown): err is SignpostError {
  return err instanceof SignpostError;
}
