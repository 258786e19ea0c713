// The message of something thrown, for a log line or a note: an Error's message, anything else
// (a string, a number, an object some library threw) as String() writes it.

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Its first line: a YAML or kubeconfig parser's message goes on with the offending text and a caret. */
export function errorFirstLine(err: unknown): string {
  return errorMessage(err).split("\n")[0] ?? "";
}
