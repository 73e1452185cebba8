import { resolveAgentProgram } from "../agents/resolve-binary.js";
import { describeOutcome } from "../process/outcome.js";
import { runProcess } from "../process/run.js";
import type { Redactor } from "../secrets/redact.js";

/** How long one `gh` call may take (it talks to GitHub). */
const GH_TIMEOUT_MS = 120_000;

/** The GitHub CLI as found on this machine. */
export type GitHubCli =
  | { status: "missing" }
  /** Installed, but `gh auth status` says it cannot talk to GitHub. */
  | { status: "unauthenticated"; file: string }
  | { status: "ready"; file: string };

/** Where `gh`'s output is logged, what cancels it and what it is redacted with. */
export interface GhRun {
  cwd: string;
  logFile: string;
  signal: AbortSignal;
  /**
   * The run's secrets (its environment's, its workspaces' env and the values of the env files it
   * copied), as its logs are redacted: gh's stderr can echo any of them (a pushed file, a body)
   * into the log and into the errors conductor prints. Before a run exists (issues read to plan
   * it), the config's: the environment's, its env and the env files it copies.
   */
  redactor: Redactor;
}

/** Finds `gh` on PATH and asks it whether it is logged in. */
export async function findGitHubCli(run: GhRun): Promise<GitHubCli> {
  const program = resolveAgentProgram(undefined, undefined, "gh");
  if (program === undefined) return { status: "missing" };
  const outcome = await runGh(program.file, ["auth", "status"], run);
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
  const outcome = await runGh(
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
  if (!outcome.ok) return { ok: false, message: outcome.message };
  const url = outcome.lines.filter((line) => /^https?:\/\//.test(line.trim())).at(-1);
  return { ok: true, url: url?.trim() ?? outcome.lines.at(-1)?.trim() ?? "(no URL printed)" };
}

/** What one `gh` call printed, or why it failed (with its stderr: gh says why there). */
export type GhOutcome =
  | { ok: true; stdout: string; lines: string[] }
  | { ok: false; message: string; stderr: string };

/**
 * Runs `gh` with prompts off, output logged (redacted) to `run.logFile`. Never throws for gh's
 * own failures: they come back as `ok: false` with gh's stderr.
 */
export async function runGh(file: string, args: readonly string[], run: GhRun): Promise<GhOutcome> {
  const lines: string[] = [];
  const errors: string[] = [];
  const outcome = await runProcess({
    file,
    args,
    cwd: run.cwd,
    // Never wait for an answer nobody will give.
    env: { GH_PROMPT_DISABLED: "1", NO_COLOR: "1" },
    signal: run.signal,
    timeoutMs: GH_TIMEOUT_MS,
    logFile: run.logFile,
    redactor: run.redactor,
    onStdoutLine: (line) => lines.push(line),
    onStderrLine: (line) => errors.push(line),
  });
  const stderr = errors.join("\n").trim();
  if (outcome.reason === "exited") return { ok: true, stdout: lines.join("\n"), lines };
  const said = stderr === "" ? "" : `: ${stderr.split("\n").slice(-3).join(" ")}`;
  return {
    ok: false,
    message: `gh ${args.slice(0, 2).join(" ")} ${describeOutcome(outcome)}${said} (log: ${run.logFile})`,
    stderr,
  };
}

/** Runs `gh` and parses its stdout as JSON (`--json`, `gh api`). */
export async function runGhJson(
  file: string,
  args: readonly string[],
  run: GhRun,
): Promise<{ ok: true; value: unknown } | { ok: false; message: string; stderr: string }> {
  const outcome = await runGh(file, args, run);
  if (!outcome.ok) return outcome;
  try {
    return { ok: true, value: JSON.parse(outcome.stdout) as unknown };
  } catch {
    return {
      ok: false,
      message: `gh ${args.slice(0, 2).join(" ")} printed something that is not JSON (log: ${run.logFile})`,
      stderr: "",
    };
  }
}
