// The two etcd operations tests need, through etcd's JSON gateway: the current revision, and a
// compaction that makes older revisions unreadable (so watchers resuming from them get 410 Gone).
import { LocalClusterError } from "./cluster-error.ts";

export class EtcdClient {
  readonly url: string;

  constructor(url: string) {
    this.url = url;
  }

  async #post(path: string, body: unknown): Promise<unknown> {
    const res = await fetch(`${this.url}${path}`, { method: "POST", body: JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new LocalClusterError(`etcd ${path}`, `HTTP ${res.status}: ${text}`);
    return JSON.parse(text) as unknown;
  }

  async revision(): Promise<number> {
    // Any key will do: every response header carries the store's revision.
    const res = await this.#post("/v3/kv/range", { key: Buffer.from("/").toString("base64"), limit: 1 });
    const rev = (res as { header?: { revision?: string } }).header?.revision;
    if (rev === undefined) throw new LocalClusterError("etcd /v3/kv/range", "no revision in the response header");
    return Number(rev);
  }

  /** Compacts at the current revision and returns it. */
  async compact(): Promise<number> {
    const revision = await this.revision();
    await this.#post("/v3/kv/compaction", { revision: String(revision), physical: true });
    return revision;
  }
}
