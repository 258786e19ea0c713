// The Pod as signpost-dns keeps it: for `--pods verified` the DNS only asks whether a Pod with a
// given IP exists in a namespace, so namespace, name and IPs are all there is. At a cluster's
// tens of thousands of Pods, any further field would cost memory on every one of them.

export interface Pod {
  readonly namespace: string;
  readonly name: string;
  /**
   * status.podIPs (status.podIP when that list is empty), as the API spells them; empty while the
   * Pod has none yet, and for a Pod that is being deleted, whose IP is no longer its own.
   */
  readonly ips: readonly string[];
}
