// Hands out pod IPs from a node's IPv4 pod CIDR, skipping the network address, and takes them
// back when a pod's sandbox goes.
import { LocalClusterError } from "../cluster-error.ts";

function toInt(ip: string): number {
  return ip.split(".").reduce((n, o) => (n << 8) + Number(o), 0) >>> 0;
}

function toIP(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export class PodCIDRAllocator {
  readonly cidr: string;
  readonly #first: number;
  readonly #last: number;
  readonly #used = new Set<number>();
  #next: number;

  constructor(cidr: string) {
    const [base, bits] = cidr.split("/");
    const prefix = Number(bits);
    if (base === undefined || !/^\d+\.\d+\.\d+\.\d+$/.test(base) || !(prefix >= 8 && prefix <= 30)) {
      throw new LocalClusterError("podCIDR", `${cidr} is not an IPv4 CIDR between /8 and /30`);
    }
    const size = 2 ** (32 - prefix);
    const network = toInt(base) & ~(size - 1);
    // .1 is left free, as on most CNIs; the broadcast address is never handed out.
    this.#first = network + 2;
    this.#last = network + size - 2;
    this.#next = this.#first;
    this.cidr = cidr;
  }

  allocate(): string {
    const span = this.#last - this.#first + 1;
    for (let i = 0; i < span; i++) {
      const candidate = this.#first + ((this.#next - this.#first + i) % span);
      if (!this.#used.has(candidate)) {
        this.#used.add(candidate);
        this.#next = candidate + 1 > this.#last ? this.#first : candidate + 1;
        return toIP(candidate);
      }
    }
    throw new LocalClusterError(`podCIDR ${this.cidr}`, "no free pod IP left");
  }

  release(ip: string): void {
    this.#used.delete(toInt(ip));
  }
}
