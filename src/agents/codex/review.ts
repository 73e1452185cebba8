import { readdir, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { AgentConfig } from "../../schema/config.js";
import { outcomeOfProcess, runStreamingAgent, stalledOutcome } from "../agent-process.js";
import { type Reviewer, type ReviewerResult, reviewerFailedToStart } from "../reviewer.js";
import {
  CODEX_NOT_FOUND,
  codexConfigArgs,
  codexModelArgs,
  resolveCodexProgram,
} from "./program.js";
import { CodexStream } from "./stream.js";

/**
 * The command line of `codex exec review`: codex's own read-only review of the changes since
 * `base`. `--base` and a free-text prompt exclude each other (codex refuses both), so the
 * repository's guidance goes in as `developer_instructions`, an extra developer message.
 * The sandbox is set read-only explicitly, after the user's overrides, so none of them can
 * let the reviewer write.
 */
export function codexReviewArguments(
  settings: AgentConfig,
  cwd: string,
  base: string,
  instructions: string | undefined,
): string[] {
  const model = codexModelArgs(settings);
  const overrides = codexConfigArgs(settings);
  // A JSON string is a TOML basic string (same escapes), so any text survives -c as one value.
  const guidance =
    instructions === undefined
      ? []
      : ["-c", `developer_instructions=${JSON.stringify(instructions)}`];
  return [
    "exec",
    "--json",
    "--cd",
    cwd,
    "review",
    ...model,
    ...overrides,
    ...guidance,
    "-c",
    'sandbox_mode="read-only"',
    "--base",
    base,
  ];
}

/** `codex exec review --json --base <start>`; the review's JSON is read from codex's session file. */
export const codexReviewer: Reviewer = {
  async review(options): Promise<ReviewerResult> {
    const program = resolveCodexProgram(options.settings.command);
    if (program === undefined) return reviewerFailedToStart(CODEX_NOT_FOUND);
    const args = codexReviewArguments(
      options.settings,
      options.cwd,
      options.base,
      options.instructions,
    );
    const stream = new CodexStream();
    const { ended, stall } = await runStreamingAgent(
      program,
      args,
      { ...options, prompt: "", resumeSessionId: undefined },
      (line) => stream.read(line),
    );
    const outcome = stall
      ? await stalledOutcome(stall, { ...options, prompt: "" })
      : outcomeOfProcess(ended, "codex", stream.errorMessage);
    const structured =
      stream.threadId === undefined
        ? undefined
        : await reviewOutputOf(codexHome(options.env), stream.threadId);
    return {
      outcome:
        outcome.status === "succeeded" && !stream.turnCompleted
          ? {
              status: "failed",
              reason: "agent-error",
              message: "codex exited without completing its review",
            }
          : outcome,
      output: stream.finalMessage,
      ...(structured === undefined ? {} : { structured }),
      sessionId: stream.threadId,
      usage: stream.usage,
    };
  },
};

/** Where codex keeps its sessions for a process with this environment. */
function codexHome(env: Readonly<Record<string, string>>): string {
  return env.CODEX_HOME ?? process.env.CODEX_HOME ?? path.join(os.homedir(), ".codex");
}

/**
 * The review codex parsed from the model's answer (`ExitedReviewMode.review_output` in the
 * thread's session file). `codex exec --json` prints only a rendering of it, which lacks the
 * verdict and confidences. Undefined when the file is not found or codex could not parse the
 * answer (it then keeps the raw text as the explanation, which is the printed message too).
 */
export async function reviewOutputOf(home: string, threadId: string): Promise<unknown> {
  const file = await findSessionFile(path.join(home, "sessions"), threadId);
  if (file === undefined) return undefined;
  let found: Record<string, unknown> | undefined;
  for (const line of (await readFile(file, "utf8")).split("\n")) {
    if (!line.includes("ExitedReviewMode")) continue;
    try {
      const event = JSON.parse(line) as {
        payload?: { item?: { type?: unknown; review_output?: unknown } };
      };
      const output = event.payload?.item?.review_output;
      if (
        event.payload?.item?.type === "ExitedReviewMode" &&
        typeof output === "object" &&
        output
      ) {
        found = output as Record<string, unknown>;
      }
    } catch {
      // a torn line: codex was killed while writing
    }
  }
  if (found === undefined) return undefined;
  const parsed =
    (typeof found.overall_correctness === "string" && found.overall_correctness !== "") ||
    (Array.isArray(found.findings) && found.findings.length > 0);
  return parsed ? found : undefined;
}

/**
 * The session file of a thread: `sessions/YYYY/MM/DD/rollout-<time>-<thread>.jsonl`. Only the
 * newest days are searched: the review just ran.
 */
async function findSessionFile(sessions: string, threadId: string): Promise<string | undefined> {
  const newest = async (dir: string, count: number) =>
    (await readdir(dir).catch(() => [] as string[]))
      .filter((name) => /^\d+$/.test(name))
      .sort()
      .reverse()
      .slice(0, count)
      .map((name) => path.join(dir, name));
  for (const year of await newest(sessions, 2)) {
    for (const month of await newest(year, 2)) {
      for (const day of await newest(month, 3)) {
        const names = await readdir(day).catch(() => [] as string[]);
        const name = names.find((candidate) => candidate.endsWith(`-${threadId}.jsonl`));
        if (name !== undefined) return path.join(day, name);
      }
    }
  }
  return undefined;
}
