// The daemon's OOM score adjustment, as kube-proxy sets its own at start (-999 by default: the
// kernel kills it last, since every Service on the node stops changing without it). Lowering
// the score needs CAP_SYS_RESOURCE, which containers often lack: a refusal is reported, never
// fatal, as in kube-proxy.
import { readFile, writeFile } from "node:fs/promises";
import { errorMessage } from "../../errors/error-message.ts";

export const OOM_SCORE_ADJ_PATH = "/proc/self/oom_score_adj";

/** Writes value to the process's oom_score_adj; returns the error's message when it did not take. */
export async function applyOomScoreAdj(value: number, path: string = OOM_SCORE_ADJ_PATH): Promise<string | null> {
  try {
    await writeFile(path, `${value}\n`);
    const now = Number((await readFile(path, "utf8")).trim());
    return now === value ? null : `the kernel kept ${now}`;
  } catch (err) {
    return errorMessage(err);
  }
}
