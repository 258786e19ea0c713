// One catalogue of signpost's errors, each with a stable code, so that a user who sees one in a
// log line or on stderr can look it up and knows what to fix: what happened, why it usually
// does, and the fix. docs/errors.md is written from it (pkg/errors/errors-doc.ts). Add a code
// here before using it.

export interface ErrorEntry {
  /** One line: what happened. */
  readonly summary: string;
  /** Why it usually happens. */
  readonly cause: string;
  /** What the user does about it. */
  readonly fix: string;
}

export const errorCodes = {
  SP_INVALID_OBJECT: {
    summary: "an API object is malformed",
    cause: "a Service, EndpointSlice, Node, Pod or Namespace from the API server (or an --objects file) lacks a field or holds a value the API would refuse, such as an address that is not an IP; the error names the object and the JSON path",
    fix: "nothing, for a running daemon: the object is skipped, logged and counted, and everything else is served; correct the object (kubectl edit) or the file",
  },
  SP_BAD_FLAG: {
    summary: "a command-line flag is unknown or malformed",
    cause: "a typo in a flag's name, a value of the wrong kind (a duration, a size, a CIDR, a host:port), a value outside its range, or a flag given twice",
    fix: "read the flag's line in --help, correct the value; the error names the flag and quotes the value",
  },
  SP_BAD_CONFIG: {
    summary: "a configuration file is invalid",
    cause: "a KubeProxyConfiguration (--config) or DNS configuration file is not YAML, is of another kind or version, names a field signpost does not know, or sets one to a value signpost cannot honour (mode: ipvs, say)",
    fix: "correct or remove the field the error names by its path (file: field.subfield); fields signpost ignores are listed at start in one log line, not refused",
  },
  SP_BAD_KUBECONFIG: {
    summary: "a kubeconfig is invalid",
    cause: "the file given by --kubeconfig (or clientConnection.kubeconfig, or ~/.kube/config) is missing, unreadable, or lacks a cluster, a server or credentials; in a pod without one, the service account token is missing",
    fix: "point --kubeconfig at a readable kubeconfig, or run in a pod with a service account; the error names the file and the missing field",
  },
  SP_API_ERROR: {
    summary: "the API server returned an error",
    cause: "a list or watch was refused: most often RBAC (the daemon's ClusterRole lacks list/watch on services, endpointslices, nodes, pods or namespaces), or the API server is overloaded or being upgraded",
    fix: "check the ClusterRole and ClusterRoleBinding in deploy/ are applied; transient errors are retried with a capped backoff and need nothing",
  },
  SP_EXEC_FAILED: {
    summary: "an external command failed",
    cause: "iptables-restore, iptables-save, conntrack, sysctl or ip failed: the binary is missing, the process lacks CAP_NET_ADMIN, the kernel lacks a module (nat table, conntrack), or the iptables flavour (legacy or nft) differs from the node's",
    fix: "run privileged with the host's network namespace as deploy/ does; install iptables and conntrack in the image; choose --iptables-backend to match the kubelet's; the error quotes the command's own message",
  },
  SP_DNS_LOOP: {
    summary: "the DNS upstream is signpost-dns itself, or sends its queries back to it",
    cause: "the resolv.conf signpost-dns forwards to (--upstream, /etc/resolv.conf by default) names the cluster DNS address, so forwarded queries come back: the kubelet's resolvConf points at the cluster DNS, or the DNS pods run with dnsPolicy ClusterFirst",
    fix: "give signpost-dns a resolv.conf whose nameservers are not itself (--upstream FILE), or run its pods with dnsPolicy: Default, as deploy/ does, so they get the node's resolvers",
  },
  SP_HOSTS_FILE_TOO_LARGE: {
    summary: "signpost-dns's hosts file is larger than its bound",
    cause: "the file named by hosts.file in the DNS configuration grew past hosts.maxFileSize (8Mi by default): a blocklist appended to, or the wrong file named",
    fix: "trim the file or raise hosts.maxFileSize (it costs memory: some 200 bytes per name); until then the entries read before keep serving",
  },
  SP_LISTEN: {
    summary: "a server could not listen on its address",
    cause: "another process holds the port (an old kube-proxy or CoreDNS still running), or the address is not on this host",
    fix: "stop the other process or choose another address (--healthz-bind-address, --metrics-bind-address, --listen); signpost-proxy retries its side servers every 5 s unless --bind-address-hard-fail",
  },
} as const satisfies Record<string, ErrorEntry>;

/** Where the catalogue is published, for --help and error messages. */
export const ERRORS_DOC = "docs/errors.md";

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
