/** Checks of the programs around conductor: Node.js, git and gh. */
import { resolveAgentProgram } from "../agents/resolve-binary.js";
import { type CheckResult, result } from "../preflight/check.js";
import { atLeast, MIN_GIT_VERSION, MIN_NODE_VERSION, parseVersion } from "../preflight/version.js";
import { askProgram } from "../process/quick.js";
import { reaperStatus } from "../process/reaper.js";

const ASK_TIMEOUT_MS = 3000;

/** Node.js runs conductor; its version is known without asking. */
export function nodeCheck(): CheckResult {
  return versionCheck("node", process.versions.node, MIN_NODE_VERSION, "Node.js");
}

/** git on PATH, at least the version whose commands conductor uses. */
export async function gitCheck(): Promise<CheckResult> {
  const answer = await askProgram("git", ["--version"], {
    env: process.env,
    timeoutMs: ASK_TIMEOUT_MS,
  });
  const version = parseVersion(answer.stdout);
  if (answer.exitCode !== 0 || version === undefined)
    return result(
      "git",
      "fail",
      `git did not run: ${answer.problem ?? "no version"}`,
      "install git",
    );
  return versionCheck("git", version, MIN_GIT_VERSION, "git");
}

/** ok when `program` is at least version `min`, else a failure that says to install a newer one. */
function versionCheck(
  program: string,
  version: string,
  min: string,
  installName: string,
): CheckResult {
  return atLeast(version, min)
    ? result(program, "ok", `${program} ${version}`)
    : result(
        program,
        "fail",
        `${program} ${version} is older than ${min}`,
        `install ${installName} ${min} or newer`,
      );
}

/**
 * What conductor does through gh (the callers of review/github.ts), so that doctor's line says
 * who misses it: `pr` opens pull requests, `import` reads issues, `checks` and `merge` ask about a workspace's
 * pull request (without gh they go by the local branch), and a config with `issue:` tasks or
 * `tasks_from` reads its issues when it is planned.
 */
export const GH_USERS =
  "`conductor pr` and `import` need it; `checks` and `merge` use it for pull requests; tasks with `issue:` or `tasks_from` need it to plan";

/**
 * gh, for what {@link GH_USERS} lists. A task that names no issue never needs GitHub to run, so
 * its state is information only: a missing or logged-out gh never blocks.
 */
export async function ghCheck(
  env: Readonly<Record<string, string | undefined>>,
): Promise<CheckResult> {
  const program = resolveAgentProgram(undefined, undefined, "gh", env);
  if (program === undefined) {
    return result(
      "gh",
      "info",
      `gh is not installed (${GH_USERS})`,
      "install the GitHub CLI (gh), then run gh auth login",
    );
  }
  const [version, auth] = await Promise.all([
    askProgram(program.file, ["--version"], { env, timeoutMs: ASK_TIMEOUT_MS }),
    askProgram(program.file, ["auth", "status"], { env, timeoutMs: ASK_TIMEOUT_MS }),
  ]);
  const name = `gh ${parseVersion(version.stdout) ?? "(unknown version)"}`;
  if (auth.exitCode === 0) return result("gh", "ok", `${name}, logged in`);
  return result("gh", "info", `${name}, not logged in (${GH_USERS})`, "gh auth login");
}

/**
 * Whether a step's daemons are ended even when they clear their environment: the reaper
 * (process/reaper.ts) needs Linux and Perl. Without it conductor still ends every daemon that
 * keeps its environment, so this is information, not a failure.
 */
export function reaperCheck(): CheckResult {
  const found = reaperStatus();
  const check = "leftover daemons";
  if (found.running)
    return result(
      check,
      "ok",
      `ended with their step, also ones that clear their environment (reaper: ${found.perl})`,
    );
  return result(
    check,
    "info",
    `ended with their step by the variable in their environment only (${found.why}): one started with \`env -i\` can outlive it`,
    found.why === "no perl on PATH" ? "install perl" : "",
  );
}
