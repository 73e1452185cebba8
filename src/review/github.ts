import { resolveAgentProgram } from "../agents/resolve-binary.js";
import { describeOutcome } from "../process/outcome.js";
import { runProcess } from "../process/run.js";
import { secretsInEnvironment } from "../secrets/names.js";
import { Redactor } from "../secrets/redact.js";

/** How long one `gh` call may take (it talks to GitHub). */
const GH_TIMEOUT_MS = 120_000;

/** The GitHub CLI as found on this machine. */
export type GitHubCli =
  | { status: "missing" }
  /** Installed, but `gh auth status` says it cannot talk to GitHub. */
  | { status: "unauthenticated"; file: string }
  | { status: "ready"; file: string };

/** Where `gh`'s output is logged and what cancels it. */
export interface GhRun {
  cwd: string;
  logFile: string;
  signal: AbortSignal;
}

/** Finds `gh` on PATH and asks it whether it is logged in. */
export async function findGitHubCli(run: GhRun): Promise<GitHubCli> {
  const program = resolveAgentProgram(undefined, undefined, "gh");
  if (program === undefined) return { status: "missing" };
  const outcome = await gh(program.file, ["auth", "status"], run);
  return outcome.ok
    ? { status: "ready", file: program.file }
    : { status: "unauthenticated", file: program.file };
}

/** What `gh pr create` needs. */
export interface CreatePullRequest {
  head: string;
  base: string;
  title: string;
  bodyFile: string;
  draft: boolean;
}

/** Opens a pull request with `gh pr create`; returns its URL, or why it failed. */
export async function createPullRequest(
  file: string,
  request: CreatePullRequest,
  run: GhRun,
): Promise<{ ok: true; url: string } | { ok: false; message: string }> {
  const outcome = await gh(
    file,
    [
      "pr",
      "create",
      "--head",
      request.head,
      "--base",
      request.base,
      "--title",
      request.title,
      "--body-file",
      request.bodyFile,
      ...(request.draft ? ["--draft"] : []),
    ],
    run,
  );
  if (!outcome.ok) return outcome;
  const url = outcome.lines.filter((line) => /^https?:\/\//.test(line.trim())).at(-1);
  return { ok: true, url: url?.trim() ?? outcome.lines.at(-1)?.trim() ?? "(no URL printed)" };
}

async function gh(
  file: string,
  args: readonly string[],
  run: GhRun,
): Promise<{ ok: true; lines: string[] } | { ok: false; message: string }> {
  const lines: string[] = [];
  const outcome = await runProcess({
    file,
    args,
    cwd: run.cwd,
    // Never wait for an answer nobody will give.
    env: { GH_PROMPT_DISABLED: "1", NO_COLOR: "1" },
    signal: run.signal,
    timeoutMs: GH_TIMEOUT_MS,
    logFile: run.logFile,
    redactor: new Redactor(secretsInEnvironment(process.env)),
    onStdoutLine: (line) => lines.push(line),
  });
  if (outcome.reason === "exited") return { ok: true, lines };
  return {
    ok: false,
    message: `gh ${args.slice(0, 2).join(" ")} ${describeOutcome(outcome)} (log: ${run.logFile})`,
  };
}
