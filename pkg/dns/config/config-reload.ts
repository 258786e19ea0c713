// Live reload of the --config file, as CoreDNS's reload plugin: the file's content is polled (a
// ConfigMap volume swaps a `..data` symlink, which an inotify watch on the old file misses) and
// a new content is parsed and checked whole before anything changes. A bad one is refused with
// one log line naming the file and the field, counted in coredns_reload_failed_total, and the
// running configuration keeps serving; a good one is applied and logged whole. The running
// content's SHA-512 is coredns_reload_version_info's value label, as CoreDNS labels it.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Logger } from "pino";
import { type FilePoll, pollFileContent } from "../../cli/file-poll.ts";
import { SignpostError } from "../../errors/errors.ts";
import type { DnsDaemonConfig } from "../daemon-flags.ts";
import { parseDnsConfigFile } from "./dns-config-file.ts";
import { describeConfig, type EffectiveDnsConfig, effectiveConfig } from "./effective-config.ts";
import { errorMessage } from "../../errors/error-message.ts";

export function contentHash(text: string): string {
  return createHash("sha512").update(text).digest("hex");
}

/** The configuration a file's text gives with these flags; throws SP_BAD_CONFIG naming the field. */
export function configFromText(flags: DnsDaemonConfig, text: string, file: string): EffectiveDnsConfig {
  return effectiveConfig(flags, parseDnsConfigFile(text, file), file);
}

export class ReloadMetrics {
  #failed = 0;
  #hash: string;

  constructor(hash: string) {
    this.#hash = hash;
  }

  failed(): void {
    this.#failed++;
  }

  loaded(hash: string): void {
    this.#hash = hash;
  }

  exposition(): string {
    return [
      "# HELP coredns_reload_failed_total Counter of the number of failed reload attempts.",
      "# TYPE coredns_reload_failed_total counter",
      `coredns_reload_failed_total ${this.#failed}`,
      "# HELP coredns_reload_version_info A metric with a constant '1' value labeled by hash, and value which type of hash generated.",
      "# TYPE coredns_reload_version_info gauge",
      `coredns_reload_version_info{hash="sha512",value="${this.#hash}"} 1`,
      "",
    ].join("\n");
  }
}

export interface ReloadOptions {
  readonly file: string;
  readonly flags: DnsDaemonConfig;
  /** The text the running configuration came from. */
  readonly text: string;
  readonly intervalMs: number;
  readonly metrics: ReloadMetrics;
  readonly log: Logger;
  /**
   * Puts a checked configuration into service and returns the one now in effect (fields that
   * wait for a restart keep their running values); a throw counts as a failed reload.
   */
  readonly apply: (config: EffectiveDnsConfig) => EffectiveDnsConfig;
}

/** check() reads the file now and reloads if its content changed, as each poll does. */
export type ConfigReload = FilePoll;

export function watchDnsConfig(options: ReloadOptions): ConfigReload {
  const { file, log } = options;
  let running = options.text;
  // pollFileContent reports each content once, so a refused one is logged once, not at every
  // poll, until the file changes again; back to the running content, nothing is reloaded.
  return pollFileContent(file, options.text, options.intervalMs, {
    unreadable: (err) => log.warn({ err, file }, "the --config file cannot be read; the running configuration stays"),
    changed: (text) => {
      if (text === running) return;
      try {
        const config = options.apply(configFromText(options.flags, text, file));
        running = text;
        options.metrics.loaded(contentHash(text));
        log.info({ file, hash: contentHash(text).slice(0, 16), config: describeConfig(config) }, "configuration reloaded");
      } catch (err) {
        options.metrics.failed();
        const where = err instanceof SignpostError ? err.where : file;
        log.error({ err, file, field: where }, `configuration refused, the previous one keeps serving: ${errorMessage(err)}`);
      }
    },
  });
}

/** The configuration at start: the flags, and the --config file when given (read now; a bad one ends the start). */
export function initialConfig(flags: DnsDaemonConfig): { config: EffectiveDnsConfig; text: string | null } {
  if (flags.configFile === null) return { config: effectiveConfig(flags, null, "--upstream"), text: null };
  let text: string;
  try {
    text = readFileSync(flags.configFile, "utf8");
  } catch (err) {
    const reason = err instanceof Error && "code" in err && err.code === "ENOENT" ? "does not exist" : "is not readable";
    throw new SignpostError("SP_BAD_CONFIG", `--config ${flags.configFile}`, `the file ${reason}`, { cause: err });
  }
  return { config: configFromText(flags, text, flags.configFile), text };
}
