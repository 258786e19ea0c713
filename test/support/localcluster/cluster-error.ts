// What goes wrong in the local test cluster (a component that will not start, a binary not
// built, a pod IP range used up). Test infrastructure, so not one of the product's SP_* codes:
// the message says where, and what to do when there is something to do.
export class LocalClusterError extends Error {
  /** The component, file or setting the problem is in. */
  readonly where: string;

  constructor(where: string, message: string, options?: { cause?: unknown }) {
    super(`local cluster: ${where}: ${message}`, options);
    this.name = "LocalClusterError";
    this.where = where;
  }
}
