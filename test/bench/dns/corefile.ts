// CoreDNS's configuration: the Corefile kubeadm v1.36.3 installs
// (cmd/kubeadm/app/phases/addons/dns/manifests.go, CoreDNSConfigMap), changed only where the
// bench must: the DNS port, loopback addresses for health, ready and metrics (so the bench knows
// where to find them), `kubeconfig` so the kubernetes plugin reaches the test API server rather
// than an in-cluster one, and `forward` to the bench's own resolv.conf, whose only nameserver is
// the local dnsmasq, instead of the host's /etc/resolv.conf.
export interface CorefileOptions {
  readonly zone: string;
  readonly dnsPort: number;
  readonly healthPort: number;
  readonly readyPort: number;
  readonly metricsPort: number;
  readonly kubeconfigPath: string;
  readonly resolvConf: string;
}

export function corefile(o: CorefileOptions): string {
  return `.:${o.dnsPort} {
    errors
    health 127.0.0.1:${o.healthPort} {
       lameduck 5s
    }
    ready 127.0.0.1:${o.readyPort}
    kubernetes ${o.zone} in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
       kubeconfig ${o.kubeconfigPath}
    }
    prometheus 127.0.0.1:${o.metricsPort}
    forward . ${o.resolvConf} {
       max_concurrent 1000
    }
    cache 30 {
       disable success ${o.zone}
       disable denial ${o.zone}
    }
    loop
    reload
    loadbalance
}
`;
}
