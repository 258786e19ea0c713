// A CommandRunner for unit tests: records every call and answers from a script of handlers.
import type { CommandOptions, CommandResult, CommandRunner } from "./command-runner.ts";

export interface RecordedCall {
  readonly command: string;
  readonly args: readonly string[];
  readonly input?: string;
}

export type Answer = (call: RecordedCall) => Partial<CommandResult> | undefined;

export class FakeRunner implements CommandRunner {
  readonly calls: RecordedCall[] = [];
  readonly #answer: Answer;

  constructor(answer: Answer = () => undefined) {
    this.#answer = answer;
  }

  async run(command: string, args: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
    await Promise.resolve();
    const call: RecordedCall = { command, args: [...args], ...(options.input === undefined ? {} : { input: options.input }) };
    this.calls.push(call);
    return { exitCode: 0, stdout: "", stderr: "", ...this.#answer(call) };
  }
}
