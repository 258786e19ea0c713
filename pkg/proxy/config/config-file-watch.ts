// kube-proxy exits when its --config file changes, so that the DaemonSet restarts it with the
// new settings (an edited kube-proxy ConfigMap reaches the pods that way): the first change of
// content is reported, and the watch ends there.
import { type FilePoll, pollFileContent } from "../../cli/file-poll.ts";

export function watchConfigFile(path: string, textAtStart: string, intervalMs: number, events: { changed: () => void; unreadable: (err: unknown) => void }): FilePoll {
  const poll = pollFileContent(path, textAtStart, intervalMs, {
    changed: () => {
      poll.stop();
      events.changed();
    },
    unreadable: events.unreadable,
  });
  return poll;
}
