// A file both daemons read at start and watch afterwards (signpost-proxy's and signpost-dns's
// --config): its content is read every interval and each new content is reported. Polled, not
// watched with inotify: a ConfigMap volume replaces the file by swapping a `..data` symlink, which
// a watch on the old file can miss, and reading a small file every few seconds is cheap. A file
// that cannot be read is reported once, until it can be read again.
import { readFile } from "node:fs/promises";

export interface FilePoll {
  /** Reads the file now, as each poll does. */
  check(): Promise<void>;
  stop(): void;
}

export interface FilePollEvents {
  /** A content that differs from the last one read (the first time, from `textAtStart`). */
  readonly changed: (text: string) => void;
  readonly unreadable: (err: unknown) => void;
}

export function pollFileContent(path: string, textAtStart: string, intervalMs: number, events: FilePollEvents): FilePoll {
  let last = textAtStart;
  let unreadable = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const check = async (): Promise<void> => {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      if (!stopped && !unreadable) events.unreadable(err);
      unreadable = true;
      return;
    }
    unreadable = false;
    if (stopped || text === last) return;
    last = text;
    events.changed(text);
  };
  const schedule = (): void => {
    timer = setTimeout(() => void check().finally(() => stopped || schedule()), intervalMs);
    timer.unref();
  };
  schedule();
  return {
    check,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
