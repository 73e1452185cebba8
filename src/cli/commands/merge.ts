import { existsSync } from "node:fs";
import os from "node:os";
import { Command, Option } from "commander";
import { ConductorError, ExitCode, OperationError, UnsafeOperationError } from "../../errors.js";
import { type FoundWorkspace, findWorkspaces } from "../../executor/find-workspace.js";
import { resolveCommit } from "../../git/facts.js";
import { conductorCommand } from "../../hint/command.js";
import { shellQuote } from "../../hint/shell-quote.js";
import { gatherChecks } from "../../merge/checks.js";
import { type GitHubAccess, gitHubAccess } from "../../merge/github-access.js";
import { landWorkspace } from "../../merge/land.js";
import { landPullRequest } from "../../merge/land-pr.js";
import { workspacePullRequest } from "../../merge/workspace-pr.js";
import { showControls } from "../../report/terminal-text.js";
import { archiveWorkspace, checkArchivable } from "../../review/archive.js";
import { refuseWhileRunsAreLive } from "../../review/live-runs.js";
import { DEFAULT_MERGE_METHOD, type MergeMethod } from "../../schema/config.js";
import { loadConfigFile } from "../../schema/load.js";
import { MERGE_METHODS } from "../../schema/written.js";
import { globalOptions } from "../global-options.js";
import { displayPath, findConfigFile } from "../project.js";
import { chosenRun, RUN_OPTION_HELP } from "../run-choice.js";

interface MergeOptions {
  method?: MergeMethod;
  force?: boolean;
  local?: boolean;
  run?: string;
}

/** `conductor merge <workspace…>`: lands ready workspaces on the base branch, then archives them. */
export function mergeCommand(): Command {
  return new Command("merge")
    .description(
      "land ready workspaces on the base branch locally (fast-forward, merge commit or squash), then archive them",
    )
    .argument("<workspaces...>", "workspace names or globs, merged in the order given")
    .addOption(
      new Option(
        "--method <method>",
        "ff, merge or squash (default: merge.method of the config, else merge)",
      ).choices(MERGE_METHODS),
    )
    .option(
      "--force",
      "merge even when conductor checks blocks (never past a conflict, nor over an ignored file)",
    )
    .option("--local", "merge locally even when the branch has a pull request on GitHub")
    .option("--run <id>", RUN_OPTION_HELP)
    .addHelpText(
      "after",
      "\nThe base branch moves in git's object store; no checkout's files change unless the base\n" +
        "branch is checked out there: then it must be clean and is updated. After landing, the\n" +
        "workspace is archived; its branch is deleted once merged (kept after a squash).\n" +
        "With gh logged in and an open pull request for the branch, GitHub merges it instead\n" +
        "(gh pr merge --merge or --squash, only at the branch's head; never a force-push), and the\n" +
        "local base branch fast-forwards to GitHub's. Refused while a run of the repository is live.",
    )
    .action(async (patterns: string[], options: MergeOptions, command: Command) => {
      const { root, run } = await chosenRun(command, options.run);
      await refuseWhileRunsAreLive(root, "nothing was merged");
      const method = options.method ?? (await configuredMethod(root, command));
      const found = findWorkspaces(run, patterns);
      // Every workspace is checked before any lands: a refusal then means nothing was merged.
      // What lands is the head the checks looked at.
      const checkedHeads = new Map<string, string | undefined>();
      for (const entry of found) {
        const name = entry.workspace.name;
        if (entry.state.status === "pending" || entry.state.status === "running") {
          throw new UnsafeOperationError(
            `${name} is not finished (${entry.state.status}); nothing was merged`,
          );
        }
        const [checks] = await gatherChecks(run, [entry]);
        checkedHeads.set(name, checks?.head);
        const blocking = checks?.items.filter((item) => item.level === "block") ?? [];
        if (blocking.length > 0 && options.force !== true) {
          const conflicted = blocking.some((item) => item.id === "conflicts");
          // --force never overwrites ignored files either: they have to be moved first.
          const overwrites = blocking.some((item) => item.id === "ignored-files");
          // Nor runs git in a base checkout whose link to the repository was changed.
          const relinked = blocking.some((item) => item.id === "base-checkout");
          // With nothing to merge (no commits, changes already in the base, or the branch
          // deleted since) --force does nothing.
          const nothing =
            checks?.head === undefined || blocking.every((item) => item.id === "ahead");
          const checksHint = `See \`${conductorCommand(["checks", name, "--run", run.runId])}\``;
          throw new UnsafeOperationError(
            `${name} is not ready to merge; nothing was merged:\n${blocking.map((item) => `  ${item.reason}`).join("\n")}`,
            {
              hint: conflicted
                ? // --force never gets past a conflict: the branch has to take the base in first.
                  `${checksHint}. Resolve the conflict on the branch (\`git -C ${shellQuote(entry.workspace.path)} merge ${shellQuote(run.plan.base.ref)}\`, fix, commit), then merge again.`
                : nothing
                  ? `${checksHint}.`
                  : overwrites
                    ? `${checksHint}. Move the ignored files it names out of the way, then merge again.`
                    : relinked
                      ? `${checksHint}. Look at what is in the folder it names; \`git worktree repair\` with that folder puts the link back (a .git folder put there has to be moved away first). Then merge again.`
                      : `${checksHint}; \`${conductorCommand(["merge", name, "--run", run.runId, "--force"])}\` merges anyway.`,
            },
          );
        }
      }
      const github = options.local === true ? undefined : await gitHubAccess(run);
      const merged: string[] = [];
      for (const entry of found) {
        const name = entry.workspace.name;
        const checked = checkedHeads.get(name);
        const viaPullRequest = await landedOnGitHub(entry, method, github, checked).catch(
          (error: unknown) => {
            throw notMergedAfter(error, name, merged);
          },
        );
        if (viaPullRequest !== undefined) {
          merged.push(name);
          process.stdout.write(`${viaPullRequest.line}\n`);
          process.stdout.write(
            `${await archiveLanded(entry, method, viaPullRequest.branchMerged)}\n`,
          );
          continue;
        }
        // A later workspace can still be refused (the base moved under it when an earlier one
        // landed): the message must not claim that nothing was merged.
        const landed = await landWorkspace(entry, method, checked).catch((error: unknown) => {
          throw notMergedAfter(error, name, merged);
        });
        merged.push(name);
        const moved = `${landed.base} ${landed.from.slice(0, 10)} → ${landed.to.slice(0, 10)}`;
        const checkout =
          landed.updatedCheckout === undefined
            ? ""
            : `; updated the checkout ${landed.updatedCheckout}`;
        process.stdout.write(`merged ${name} (${method}): ${moved}${checkout}\n`);
        process.stdout.write(`${await archiveLanded(entry, method, method !== "squash")}\n`);
      }
    });
}

/**
 * Lands `entry` through its pull request when gh is ready and the branch has one; undefined
 * when it has none (the caller merges locally). Returns the lines to print.
 */
async function landedOnGitHub(
  entry: FoundWorkspace,
  method: MergeMethod,
  github: GitHubAccess | undefined,
  checkedHead: string | undefined,
): Promise<{ line: string; branchMerged: boolean } | undefined> {
  if (github === undefined || !github.ready) return undefined;
  const head = await resolveCommit(
    entry.run.plan.repo.root,
    `refs/heads/${entry.workspace.branch}`,
  );
  const lookup = await workspacePullRequest(github.gh, entry, head, github.run);
  if (lookup.found === false) return undefined;
  if (lookup.found === "error") {
    throw new OperationError(
      `${entry.workspace.name}: cannot tell whether ${entry.workspace.branch} has a pull request: ${lookup.message}; nothing was merged`,
      {
        hint: `Merge locally instead: ${conductorCommand(["merge", entry.workspace.name, "--run", entry.run.runId, "--local"])}`,
      },
    );
  }
  const landed = await landPullRequest(entry, lookup.pr, method, github, checkedHead);
  const how = landed.mergedNow
    ? `merged ${landed.name} through PR #${landed.number} (${method}${landed.pushed ? ", pushed the branch first" : ""})`
    : `${landed.name}: PR #${landed.number} was merged on GitHub already`;
  return { line: `${how}: ${landed.url}\n${landed.localBase}`, branchMerged: landed.branchMerged };
}

/** A refusal after earlier workspaces landed must not claim that nothing was merged. */
function notMergedAfter(error: unknown, name: string, merged: readonly string[]): unknown {
  if (error instanceof ConductorError && merged.length > 0) {
    error.message = error.message.replace(
      /; nothing was merged$/,
      `; ${name} was not merged (${merged.join(", ")} ${merged.length === 1 ? "was" : "were"})`,
    );
  }
  return error;
}

/** Archives a landed workspace; a refusal is reported, not thrown: the merge itself stands. */
async function archiveLanded(
  entry: FoundWorkspace,
  method: MergeMethod,
  deleteBranch: boolean,
): Promise<string> {
  try {
    const [candidate] = await checkArchivable([entry], { deleteBranch, force: false });
    if (candidate === undefined) return `${entry.workspace.name}: nothing to archive`;
    const result = await archiveWorkspace(candidate, {
      deleteBranch,
      force: false,
      homeDir: os.homedir(),
      signal: new AbortController().signal,
    });
    const branch = result.branchDeleted
      ? `deleted branch ${result.branch}`
      : result.branchIsUsers
        ? `kept branch ${result.branch} (it is yours: the task continued it with branch:)`
        : `kept branch ${result.branch}${method === "squash" || !deleteBranch ? " (its commits were squashed, not merged)" : ""}`;
    // A workspace archived before it was merged has no worktree left to remove.
    const removed = result.removedWorktree === undefined ? "" : "removed its worktree, ";
    return `archived ${result.name}: ${removed}${branch}`;
  } catch (error) {
    if (!(error instanceof ConductorError)) throw error;
    process.exitCode = ExitCode.WorkFailed;
    // Printed, not thrown: its control characters are shown here, as reportError would.
    return `${entry.workspace.name} was merged but not archived: ${showControls(error.message)}`;
  }
}

/** `merge.method` of the config in use; the default when there is no config file. */
async function configuredMethod(root: string, command: Command): Promise<MergeMethod> {
  const file = findConfigFile(process.cwd(), root, globalOptions(command).config);
  if (!existsSync(file)) return DEFAULT_MERGE_METHOD;
  return (await loadConfigFile(file, displayPath(process.cwd(), file))).config.merge.method;
}
