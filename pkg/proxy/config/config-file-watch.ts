// kube-proxy exits when its --config file changes, so that the DaemonSet restarts it with the
// new settings (an edited kube-proxy ConfigMap reaches the pods that way). The file is polled:
// a ConfigMap volume replaces it by swapping a symlink, which an inotify watch on the old file
// can miss. Only a change of content counts; a file that cannot be read is reported and watched on.
import { readFile } from "node:fs/promises";

export interface ConfigWatch {
  stop(): void;
}

export function watchConfigFile(path: string, textAtStart: string, intervalMs: number, events: { changed: () => void; unreadable: (err: unknown) => void }): ConfigWatch {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const check = async (): Promise<void> => {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      if (!stopped) events.unreadable(err);
      return;
    }
    if (!stopped && text !== textAtStart) {
      stopped = true;
      events.changed();
    }
  };
  const schedule = (): void => {
    timer = setTimeout(() => void check().finally(() => stopped || schedule()), intervalMs);
    timer.unref();
  };
  schedule();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
