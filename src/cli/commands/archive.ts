import os from "node:os";
import { Command } from "commander";
import { InterruptedError, UsageError } from "../../errors.js";
import { type FoundWorkspace, findWorkspaces } from "../../executor/find-workspace.js";
import type { RunState } from "../../executor/types.js";
import {
  type ArchiveOptions,
  type ArchiveResult,
  archiveWorkspace,
  checkArchivable,
  isUsersBranch,
} from "../../review/archive.js";
import { refuseWhileRunsAreLive } from "../../review/live-runs.js";
import { archiveLosers } from "../../review/losers.js";
import { interruptOnSignals } from "../interrupt.js";
import { chosenRun, RUN_OPTION_HELP } from "../run-choice.js";

interface ArchiveCommandOptions {
  all?: boolean;
  losers?: boolean;
  deleteBranch?: boolean;
  force?: boolean;
  run?: string;
}

/** `conductor archive <workspace…> | --all`: removes workspaces once they are reviewed. */
export function archiveCommand(): Command {
  return new Command("archive")
    .description(
      "run the archive script, remove the worktree and free the ports of workspaces (the branch stays)",
    )
    .argument("[workspaces...]", "workspace names or globs")
    .option("--all", "every workspace of the run that is not archived yet")
    .option(
      "--losers",
      "the workspaces of best-of-N tasks that did not win; their branches are kept as refs/conductor/losers/<run>/<workspace>",
    )
    .option("--delete-branch", "delete the branch too")
    .option("--force", "archive even if uncommitted changes or unmerged commits would be lost")
    .option("--run <id>", RUN_OPTION_HELP)
    .addHelpText(
      "after",
      "\nRefuses (exit 1, nothing removed) when a worktree has uncommitted changes, or when\n" +
        "--delete-branch would drop commits that are neither on the base nor on any remote.",
    )
    .action(async (patterns: string[], options: ArchiveCommandOptions, command: Command) => {
      if (options.losers === true) {
        if (options.all === true || patterns.length > 0 || options.deleteBranch === true) {
          throw new UsageError(
            "--losers archives the losers only: name no workspaces, and no --all or --delete-branch",
          );
        }
        const { root, run } = await chosenRun(command, options.run);
        // Their branches move to refs/conductor/losers/.
        await refuseWhileRunsAreLive(root, "nothing was archived");
        await archiveTheLosers(run, options.force === true);
        return;
      }
      if (options.all === true && patterns.length > 0) {
        throw new UsageError("name workspaces or pass --all, not both");
      }
      if (options.all !== true && patterns.length === 0) {
        throw new UsageError("name the workspaces to archive (names or globs), or pass --all");
      }
      const { root, run } = await chosenRun(command, options.run);
      const found = options.all ? everyWorkspace(run) : findWorkspaces(run, patterns);
      const deleteBranch = options.deleteBranch === true;
      if (deleteBranch) await refuseWhileRunsAreLive(root, "nothing was archived");
      // Archived ones have nothing left to remove, unless their branch is to go now.
      const todo = found.filter(
        (entry) =>
          entry.state.archived === undefined ||
          (deleteBranch && !entry.state.archived.branchDeleted && !isUsersBranch(entry.workspace)),
      );
      for (const entry of found) {
        if (!todo.includes(entry))
          process.stdout.write(`${entry.workspace.name}: already archived\n`);
      }
      const candidates = await checkArchivable(todo, {
        deleteBranch,
        force: options.force === true,
      });
      const interrupt = interruptOnSignals(() => {});
      try {
        const archiveOptions: ArchiveOptions = {
          deleteBranch,
          force: options.force === true,
          homeDir: os.homedir(),
          signal: interrupt.signal,
        };
        if (found.length === 0) process.stdout.write("nothing to archive\n");
        for (const candidate of candidates) {
          // Ctrl-C stops after the workspace being archived; the rest stay as they are.
          if (interrupt.signal.aborted)
            throw new InterruptedError(
              "archive interrupted; the remaining workspaces were left as they were",
            );
          process.stdout.write(`${describe(await archiveWorkspace(candidate, archiveOptions))}\n`);
        }
      } finally {
        interrupt.dispose();
      }
    });
}

/** `archive --losers`: one line per loser archived, its branch kept on a ref. */
async function archiveTheLosers(run: RunState, force: boolean): Promise<void> {
  const interrupt = interruptOnSignals(() => {});
  try {
    const results = await archiveLosers(run, {
      force,
      homeDir: os.homedir(),
      signal: interrupt.signal,
    });
    if (results.length === 0) process.stdout.write("no losers to archive\n");
    for (const result of results) {
      // "kept branch conductor/fix-2 as refs/conductor/losers/…": off refs/heads, not lost.
      const kept = result.keptAs === undefined ? "" : ` as ${result.keptAs}`;
      process.stdout.write(`${describe({ ...result, branchDeleted: false })}${kept}\n`);
    }
  } finally {
    interrupt.dispose();
  }
}

/** The non-archived workspaces of a run. */
function everyWorkspace(run: RunState): FoundWorkspace[] {
  return run.plan.workspaces.flatMap((workspace) => {
    const state = run.workspaces[workspace.name];
    return state === undefined || state.archived !== undefined ? [] : [{ run, workspace, state }];
  });
}

/** `archived add-auth: ran the archive script, removed …, freed ports …, kept branch …`. */
function describe(result: ArchiveResult): string {
  const parts: string[] = [];
  if (result.archiveScript === "ran") parts.push("ran the archive script");
  if (result.archiveScript === "failed-forced") parts.push("archive script failed (forced on)");
  if (result.removedWorktree !== undefined) parts.push(`removed ${result.removedWorktree}`);
  if (result.freedPorts !== undefined) {
    const { start, count } = result.freedPorts;
    parts.push(`freed ports ${start}-${start + count - 1}`);
  }
  parts.push(
    result.branchIsUsers
      ? `kept branch ${result.branch} (it is yours: the task continued it with branch:)`
      : `${result.branchDeleted ? "deleted" : "kept"} branch ${result.branch}`,
  );
  return `archived ${result.name}: ${parts.join(", ")}`;
}
