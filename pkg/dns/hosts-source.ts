// The hosts entries signpost-dns serves: the inline ones of the configuration over those of a
// hosts file, which is re-read when its size or modification time changes (CoreDNS's hosts
// `reload`). A file past its size bound, or one that cannot be read, is refused with one log line
// and the previous version keeps serving; inline entries serve whatever happens to the file.
import { open, stat } from "node:fs/promises";
import type { Logger } from "pino";
import { SignpostError } from "../errors/errors.ts";
import { answerFromHosts, EMPTY_HOSTS, type HostsAnswerOptions, type HostsTable, mergeHosts, parseHosts } from "./hosts-table.ts";
import type { Reply } from "./records.ts";
import { errorMessage } from "../errors/error-message.ts";

export interface HostsSettings extends HostsAnswerOptions {
  /** Inline entries, as lines of a hosts file (already checked). */
  readonly entries: readonly string[];
  /** An absolute path, or null for inline entries only. */
  readonly file: string | null;
  /** How often the file is checked for a change; 0 reads it once. */
  readonly reloadMs: number;
  /** A larger file is refused whole. */
  readonly maxFileBytes: number;
}

/** A hosts file as large as StevenBlack's blocklist fits ten times over. */
export const DEFAULT_HOSTS_FILE_BYTES = 8 * 1024 * 1024;
/** CoreDNS's hosts defaults. */
export const DEFAULT_HOSTS_TTL = 3600;
export const DEFAULT_HOSTS_RELOAD_MS = 5000;

export class HostsSource {
  readonly #settings: HostsSettings;
  readonly #log: Logger;
  readonly #inline: HostsTable;
  /** The file's entries last read; kept while a newer version is refused or unreadable. */
  #file: HostsTable = EMPTY_HOSTS;
  #table: HostsTable;
  /** What identified the file's version last read: size and modification time. */
  #seen = "";
  #reloadedAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  /**
   * `previous`: the source this one replaces on a reload; when it read the same file, its
   * entries serve until this one reads the file, so a file refused now loses nothing.
   */
  constructor(settings: HostsSettings, log: Logger, previous: HostsSource | null = null) {
    this.#settings = settings;
    this.#log = log.child({ component: "hosts" });
    this.#inline = parseHosts(settings.entries.join("\n")).table;
    if (previous !== null && settings.file !== null && previous.#settings.file === settings.file) this.#file = previous.#file;
    this.#table = mergeHosts(this.#file, this.#inline);
  }

  get table(): HostsTable {
    return this.#table;
  }

  /** When the file was last read into service, in seconds since the epoch; 0 before. */
  get reloadedAt(): number {
    return this.#reloadedAt;
  }

  answer(name: string, qtype: number): Reply | null {
    return answerFromHosts(this.#table, name, qtype, this.#settings);
  }

  /** Reads the file now and then every reloadMs; resolves once the first read is done. */
  async start(): Promise<void> {
    if (this.#settings.file === null) return;
    await this.check();
    if (this.#settings.reloadMs > 0 && !this.#stopped) this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** Reads the file if it changed since the last read, as each poll does. */
  async check(): Promise<void> {
    const file = this.#settings.file;
    if (file === null) return;
    let version: string;
    try {
      const s = await stat(file);
      version = `${s.size}:${s.mtimeMs}:${s.ino}`;
    } catch (err) {
      if (this.#seen !== "unreadable") this.#log.warn({ err, file }, "the hosts file cannot be read; the entries read before stay");
      this.#seen = "unreadable";
      return;
    }
    if (version === this.#seen || this.#stopped) return;
    this.#seen = version;
    try {
      const text = await readBounded(file, this.#settings.maxFileBytes);
      const { table, errors } = parseHosts(text);
      if (this.#stopped) return;
      this.#file = table;
      this.#table = mergeHosts(table, this.#inline);
      this.#reloadedAt = Date.now() / 1000;
      if (errors.length > 0) this.#log.warn({ file, skipped: errors.length, first: errors.slice(0, 5) }, "hosts file lines skipped");
      this.#log.info({ file, names: table.byName.size }, "hosts file read");
    } catch (err) {
      this.#log.error({ err, file }, `hosts file refused, the entries read before stay: ${errorMessage(err)}`);
    }
  }

  #schedule(): void {
    this.#timer = setTimeout(() => void this.check().finally(() => this.#stopped || this.#schedule()), this.#settings.reloadMs);
    this.#timer.unref();
  }
}

/** The file's text; throws SP_HOSTS_FILE_TOO_LARGE past `max` bytes, having read no more than max + 1. */
export async function readBounded(path: string, max: number): Promise<string> {
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.allocUnsafe(max + 1);
    let length = 0;
    while (length <= max) {
      const { bytesRead } = await handle.read(buffer, length, max + 1 - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > max) throw new SignpostError("SP_HOSTS_FILE_TOO_LARGE", path, `larger than hosts.maxFileSize (${max} bytes)`);
    return buffer.toString("utf8", 0, length);
  } finally {
    await handle.close();
  }
}
