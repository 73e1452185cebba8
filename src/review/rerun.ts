import { existsSync } from "node:fs";
import { InterruptedError, UnsafeOperationError, WorkspaceConflictError } from "../errors.js";
import type { FoundWorkspace } from "../executor/find-workspace.js";
import { isRunLive, loadRun } from "../executor/load-run.js";
import { releasePorts } from "../executor/ports.js";
import { appendEvent, listRunIds, RunPaths, readCleaned } from "../executor/run-store.js";
import type { RunState } from "../executor/types.js";
import { guardWorktreeLink } from "../executor/worktree-link-check.js";
import {
  branchesInTheWay,
  CHECKOUT_PENDING,
  checkoutPendingAt,
  git,
  listWorktrees,
  localBranches,
  removeWorktree,
  samePath,
  saveWork,
  type WorktreeEntry,
} from "../git/worktree.js";
import { conductorCommand, gitCommand, placeholder, runConductorCommand } from "../hint/command.js";
import { winnerBranchHolders } from "../planner/selections.js";
import type { Plan, Workspace } from "../planner/types.js";
import { archiveWorkspace } from "./archive.js";
import { nestedLoss, whatWouldBeLost } from "./safety.js";
import { worktreePresence } from "./worktree-presence.js";

/** A workspace of an earlier run whose branch a new run takes over, and where its work went. */
export interface KeptWorkspace {
  workspace: string;
  branch: string;
  /** The ref its branch was kept as; undefined when it had no branch any more. */
  keptAs: string | undefined;
  /** The ref its worktree's uncommitted work was kept as, when it had any. */
  savedWork: string | undefined;
  /** The ref its worktree's detached HEAD was kept as, when no other ref held its commits. */
  savedHead?: string | undefined;
}

/** An earlier run that gave way to a new one. */
export interface KeptRun {
  runId: string;
  configFile: string | undefined;
  /** Its status; undefined when `conductor clean` had removed its folder. */
  status: RunState["status"] | undefined;
  workspaces: KeptWorkspace[];
}

/** The earlier workspace that holds a branch or folder the new plan needs. */
interface Owner {
  runId: string;
  configFile: string | undefined;
  /** Its run, when its folder still exists. */
  run: RunState | undefined;
  /** The earlier workspace as planned (absent for a cleaned run: then only its branch is known). */
  workspace: Workspace | undefined;
  name: string;
  branch: string;
}

/**
 * Makes room for a new run of a plan whose branches or worktree folders belong to earlier,
 * finished runs (a second `conductor run` of the same file): each earlier branch is kept as
 * `refs/conductor/runs/<run-id>/<workspace>`, uncommitted work of its worktree as
 * `refs/conductor/saved/<run-id>/<workspace>/retired`, its worktree is removed (archive script
 * first) and the earlier workspace is recorded as archived, so the new run takes the plain names
 * and nothing is lost. Refuses, changing nothing, when a run that holds them is still live, or
 * when a branch or folder is not any run's.
 */
export async function makeRoomForNewRun(
  plan: Plan,
  options: {
    homeDir: string;
    signal: AbortSignal;
    /** The local branches, when just listed (see {@link localBranches}). */
    branches?: ReadonlySet<string>;
  },
): Promise<KeptRun[]> {
  const root = plan.repo.root;
  // The names winners will take count too: an earlier run's winner may hold one. A task's
  // `branch:` is the user's own branch: it exists, and no earlier run may take it away.
  const candidates = [...plan.workspaces, ...winnerBranchHolders(plan)];
  const takenAmong = (branches: ReadonlySet<string>, folders: ReadonlySet<Workspace>) =>
    candidates.filter(
      (workspace) =>
        (branches.has(workspace.branch) && workspace.startPoint.kind !== "branch") ||
        folders.has(workspace),
    );
  const foldersNow = () => new Set(candidates.filter((workspace) => existsSync(workspace.path)));
  let folders = foldersNow();
  let branches = options.branches ?? (await localBranches(root));
  if (options.branches !== undefined && takenAmong(branches, folders).length > 0) {
    // Listed a moment ago, the branches may predate a folder another run is making now (git
    // worktree add makes the branch first): folders first, then the branches, seen together.
    folders = foldersNow();
    branches = await localBranches(root);
  }
  const taken = takenAmong(branches, folders);
  if (taken.length === 0) {
    assertNoBranchInTheWay(plan, candidates, branches);
    return [];
  }
  const worktrees = await listWorktrees(root);
  const { owners, foreign } = await findOwners(plan, taken, branches, worktrees);
  assertNotAnotherConfigs(plan, foreign);
  assertRetirable(plan, taken, owners, worktrees);
  // The branches of the earlier workspaces set aside below go onto refs: they stand in no way.
  const keptAsRefs = new Set(
    [...owners.values()]
      .filter((owner) => owner.workspace?.startPoint.kind !== "branch")
      .map((owner) => owner.branch),
  );
  assertNoBranchInTheWay(
    plan,
    candidates,
    new Set([...branches].filter((branch) => !keptAsRefs.has(branch))),
  );
  await assertNothingUnsavable(owners, worktrees);

  const kept = new Map<string, KeptRun>();
  for (const owner of new Set(owners.values())) {
    // Each retirement is whole (work on refs, then the names freed); stop between them.
    if (options.signal.aborted) {
      throw new InterruptedError("interrupted while making room for the new run; it did not start");
    }
    const entry = kept.get(owner.runId) ?? {
      runId: owner.runId,
      configFile: owner.configFile,
      status: owner.run?.status,
      workspaces: [],
    };
    kept.set(owner.runId, entry);
    entry.workspaces.push(await retire(root, owner, worktrees, options));
  }
  return [...kept.values()];
}

/** One line per earlier run: what was kept where. */
export function describeKept(run: KeptRun): string {
  const list = (workspaces: readonly KeptWorkspace[]) =>
    workspaces.length === 1
      ? (workspaces[0] as KeptWorkspace).workspace
      : `{${workspaces.map((workspace) => workspace.workspace).join(",")}}`;
  const branches = run.workspaces.filter((workspace) => workspace.keptAs !== undefined);
  const saved = run.workspaces.filter((workspace) => workspace.savedWork !== undefined);
  const heads = run.workspaces.filter((workspace) => workspace.savedHead !== undefined);
  const kept = [
    ...(branches.length === 0
      ? []
      : [`branches as refs/conductor/runs/${run.runId}/${list(branches)}`]),
    ...(saved.length === 0
      ? []
      : [`uncommitted work as refs/conductor/saved/${run.runId}/${list(saved)}/retired`]),
    ...(heads.length === 0
      ? []
      : [`detached HEAD commits as refs/conductor/saved/${run.runId}/${list(heads)}/head`]),
  ];
  return (
    `conductor: kept the earlier run ${run.runId} (${run.configFile ?? "conductor.yaml"}, ${run.status ?? "cleaned"}): ` +
    `${kept.length === 0 ? "nothing to keep" : kept.join(", ")}; this run takes the branch names` +
    // A cleaned run has no folder left to show; its refs are all there is.
    (run.status === undefined
      ? ""
      : `. See it with \`${conductorCommand(["status", "--run", run.runId])}\``)
  );
}

/** The config file a plan or run belongs to, as recorded (older runs: the default file). */
function configOf(configFile: string | undefined): string {
  return configFile ?? "conductor.yaml";
}

/**
 * Who holds each taken branch or folder: the newest run with a workspace of that branch (or
 * worktree path) that is not archived yet, else a cleaned run's note of its kept branch. Only
 * runs of the plan's own config file give way; `foreign` holds what another config's run holds.
 */
async function findOwners(
  plan: Plan,
  taken: readonly Workspace[],
  branches: ReadonlySet<string>,
  worktrees: readonly WorktreeEntry[],
): Promise<{ owners: Map<string, Owner>; foreign: Owner[] }> {
  const ownConfig = configOf(plan.configFile);
  const foreign: Owner[] = [];
  const root = plan.repo.root;
  const runs: RunState[] = [];
  for (const id of listRunIds(root).reverse()) {
    const run = await loadRun(root, id).catch(() => undefined);
    if (run !== undefined) runs.push(run);
  }
  const cleaned = (await readCleaned(root)).reverse();
  const owners = new Map<string, Owner>();
  const byKey = new Map<string, Owner>();
  const ownerOf = (run: RunState, earlier: Workspace): Owner => {
    const key = `${run.runId}/${earlier.name}`;
    const owner = byKey.get(key) ?? {
      runId: run.runId,
      configFile: run.plan.configFile,
      run,
      workspace: earlier,
      name: earlier.name,
      branch: earlier.branch,
    };
    byKey.set(key, owner);
    return owner;
  };
  for (const workspace of taken) {
    let found: Owner | undefined;
    for (const run of runs) {
      const earlier = run.plan.workspaces.find((candidate) => {
        const state = run.workspaces[candidate.name];
        if (state === undefined) return false;
        const branchIsItsOwn =
          branches.has(workspace.branch) &&
          candidate.branch === workspace.branch &&
          state.archived?.branchDeleted !== true;
        const folderIsItsOwn =
          candidate.path === workspace.path &&
          state.archived === undefined &&
          (state.worktreeCreated || checkoutPendingAt(worktrees, candidate));
        return branchIsItsOwn || folderIsItsOwn;
      });
      if (earlier !== undefined) {
        if (configOf(run.plan.configFile) === ownConfig) found = ownerOf(run, earlier);
        else foreign.push(ownerOf(run, earlier));
        break;
      }
    }
    if (found === undefined && !foreign.some((owner) => owner.branch === workspace.branch)) {
      const note = branches.has(workspace.branch)
        ? cleaned.find(
            (entry) =>
              entry.branch === workspace.branch && configOf(entry.configFile) === ownConfig,
          )
        : undefined;
      if (note !== undefined) {
        const key = `${note.runId}/${note.workspace}`;
        found = byKey.get(key) ?? {
          runId: note.runId,
          configFile: note.configFile,
          run: undefined,
          workspace: undefined,
          name: note.workspace,
          branch: note.branch,
        };
        byKey.set(key, found);
      }
    }
    if (found !== undefined) owners.set(workspace.name, found);
  }
  return { owners, foreign };
}

/**
 * Refuses branches or folders held by a run of another config file: a run of one file never
 * retires another file's work. The remedy archives that run's workspace as its own file would.
 */
function assertNotAnotherConfigs(plan: Plan, foreign: readonly Owner[]): void {
  const [first] = foreign;
  if (first === undefined) return;
  // With the run's own -c, read from where conductor reads it (`-C` has been entered already).
  const remedy = runConductorCommand(plan.repo.root, first.configFile, [
    "archive",
    first.name,
    "--run",
    first.runId,
    "--delete-branch",
  ]);
  throw new WorkspaceConflictError(
    `${foreign.length === 1 ? "a branch or folder" : `${foreign.length} branches or folders`} of this plan belong to runs of another config file; nothing was changed:\n` +
      foreign
        .map(
          (owner) =>
            `  branch ${owner.branch}: workspace ${owner.name} of run ${owner.runId} (${configOf(owner.configFile)})`,
        )
        .join("\n"),
    {
      hint:
        `Once its work is merged or pushed, archive that run's workspace with \`${remedy}\` (it refuses while commits would be lost), ` +
        `or give this task set its own names with workspaces.branch in ${configOf(plan.configFile)}.`,
    },
  );
}

/** Refuses, before anything changes, what cannot be set aside without risk. */
function assertRetirable(
  plan: Plan,
  taken: readonly Workspace[],
  owners: ReadonlyMap<string, Owner>,
  worktrees: readonly WorktreeEntry[],
): void {
  const live = new Map<string, RunState>();
  const unknown: string[] = [];
  const blocked: string[] = [];
  for (const workspace of taken) {
    const owner = owners.get(workspace.name);
    if (owner === undefined) {
      unknown.push(
        existsSync(workspace.path) &&
          !worktrees.some((entry) => samePath(entry.path, workspace.path))
          ? `folder ${workspace.path} (not a worktree of this repository)`
          : `branch ${workspace.branch}`,
      );
      continue;
    }
    const run = owner.run;
    if (run !== undefined && isRunLive(run)) {
      live.set(run.runId, run);
      continue;
    }
    // The branch may stay checked out only in the earlier workspace's own worktree.
    const ownPath = owner.workspace?.path;
    for (const entry of worktrees) {
      if (entry.branch !== owner.branch) continue;
      if (ownPath !== undefined && samePath(entry.path, ownPath)) continue;
      blocked.push(`branch ${owner.branch} is checked out at ${entry.path}`);
    }
    if (
      existsSync(workspace.path) &&
      (ownPath === undefined || !samePath(ownPath, workspace.path)) &&
      !worktrees.some((entry) => samePath(entry.path, workspace.path))
    ) {
      blocked.push(`folder ${workspace.path} is not a worktree of this repository`);
    }
  }
  const [first] = live.values();
  if (first !== undefined) {
    throw new WorkspaceConflictError(
      `run ${first.runId} (${first.plan.configFile ?? "conductor.yaml"}) is still running (live, pid ${first.pid}) and holds branches or folders of this plan`,
      {
        hint: `Wait for it to finish (\`${conductorCommand(["status", "--run", first.runId])}\` follows it), or stop it with \`kill -INT ${first.pid}\`, then run again.`,
      },
    );
  }
  const problems = [
    ...unknown.map((item) => `${item}: no run of this repository made it`),
    ...blocked,
  ];
  if (problems.length === 0) return;
  throw new WorkspaceConflictError(
    `${problems.length === 1 ? "a branch or folder" : `${problems.length} branches or folders`} of this plan cannot be taken over; nothing was changed:\n${problems.map((line) => `  ${line}`).join("\n")}`,
    {
      hint:
        `Rename or remove what is not conductor's, switch checkouts away from workspace branches, ` +
        `or give this task set its own names with workspaces.branch / workspaces.dir in ${plan.configFile ?? "conductor.yaml"}.`,
    },
  );
}

/**
 * Refuses, before anything changes, a branch of the plan that an existing branch keeps git from
 * making (`conductor` or `conductor/a/old` stand in the way of `conductor/a`): the run would
 * fail at that workspace's worktree step. Taken-over branches of earlier runs are left out.
 */
function assertNoBranchInTheWay(
  plan: Plan,
  candidates: readonly Workspace[],
  branches: ReadonlySet<string>,
): void {
  const clashes = branchesInTheWay(
    candidates.map((workspace) => workspace.branch),
    branches,
  );
  const [first] = clashes;
  if (first === undefined) return;
  const planned = new Set(clashes.map((clash) => clash.branch)).size;
  const nameOf = (branch: string) =>
    candidates.find((workspace) => workspace.branch === branch)?.name ?? branch;
  throw new WorkspaceConflictError(
    `${planned === 1 ? "a branch of this plan clashes" : `${planned} branches of this plan clash`} with existing branches (git cannot have both x and x/y); nothing was changed:\n` +
      clashes
        .map(
          (clash) =>
            `  branch ${clash.branch} of workspace ${nameOf(clash.branch)}: the branch ${clash.existing} exists`,
        )
        .join("\n"),
    {
      hint:
        `Rename or delete the existing branch${clashes.length === 1 ? "" : "es"} (\`${gitCommand(plan.repo.root, ["branch", "-m", first.existing, placeholder("<new-name>")])}\`), ` +
        `or give this task set its own names with workspaces.branch in ${plan.configFile ?? "conductor.yaml"}.`,
    },
  );
}

/**
 * Refuses, before anything is removed, work that retiring could not keep on a ref: commits of a
 * nested repository live only in its own `.git` inside the worktree (as `archive` refuses them).
 */
async function assertNothingUnsavable(
  owners: ReadonlyMap<string, Owner>,
  worktrees: readonly WorktreeEntry[],
): Promise<void> {
  const unsafe: string[] = [];
  for (const owner of new Set(owners.values())) {
    const state = owner.run?.workspaces[owner.name];
    const ownPath = owner.workspace?.path;
    if (owner.run === undefined || owner.workspace === undefined || state === undefined) continue;
    if (ownPath === undefined || !existsSync(ownPath)) continue;
    if (!worktrees.some((entry) => samePath(entry.path, ownPath))) continue;
    const losses = await whatWouldBeLost(
      { run: owner.run, workspace: owner.workspace, state },
      { worktreePresent: true, deleteBranch: false },
    );
    for (const nested of losses.nestedRepositories) {
      unsafe.push(
        `${owner.name} (run ${owner.runId}): nested repository ${nested.path} has ${nestedLoss(nested)}`,
      );
    }
  }
  if (unsafe.length === 0) return;
  throw new UnsafeOperationError(
    `the earlier run's worktrees hold work that cannot be kept on a ref; nothing was removed:\n${unsafe.map((line) => `  ${line}`).join("\n")}`,
    {
      hint: "Commit and push the nested repositories' work (or move them out of the worktree), or archive those workspaces with --force to drop them, then run again.",
    },
  );
}

/** Sets one earlier workspace aside: its work onto refs, its worktree removed, its record archived. */
async function retire(
  root: string,
  owner: Owner,
  worktrees: readonly WorktreeEntry[],
  options: { homeDir: string; signal: AbortSignal },
): Promise<KeptWorkspace> {
  const ownPath = owner.workspace?.path;
  const worktree =
    ownPath === undefined ? undefined : worktrees.find((entry) => samePath(entry.path, ownPath));
  const state = owner.run?.workspaces[owner.name];
  let savedWork: string | undefined;
  let savedHead: string | undefined;
  if (worktree !== undefined && existsSync(worktree.path)) {
    await guardWorktreeLink({ root, runId: owner.runId, name: owner.name, path: worktree.path });
    const ref = `refs/conductor/saved/${owner.runId}/${owner.name}/retired`;
    // A worktree whose checkout never finished (its conductor was killed while making it) holds
    // no work: what it lacks of its branch are files not yet written, not deletions to keep.
    const saved =
      worktree.locked === CHECKOUT_PENDING
        ? undefined
        : await saveWork(worktree.path, {
            ref,
            message: `conductor: uncommitted work of ${owner.name} (run ${owner.runId}), kept when a new run took its place`,
            exclude: [...(state?.copied ?? []), ".context"],
          });
    if (saved !== undefined) savedWork = ref;
    savedHead = await keepDetachedHead(root, worktree.path, owner);
  }
  if (owner.run !== undefined && owner.workspace !== undefined && state !== undefined) {
    if (state.archived === undefined) {
      // As `conductor archive --force` would, now that its work is safe: archive script, worktree, ports.
      const found: FoundWorkspace = { run: owner.run, workspace: owner.workspace, state };
      const presence = await worktreePresence(found);
      await archiveWorkspace(
        { found, presence: presence === "foreign" ? "vanished" : presence },
        { deleteBranch: false, force: true, homeDir: options.homeDir, signal: options.signal },
      );
    } else if (worktree !== undefined) {
      await removeWorktree(root, worktree.path, true);
      await releasePorts(options.homeDir, worktree.path);
    }
  } else if (worktree !== undefined) {
    await removeWorktree(root, worktree.path, true);
  }
  // The branch a `branch:` task continued on is the user's: it stays where it is.
  const keptAs =
    owner.workspace?.startPoint.kind === "branch" ? undefined : await keepBranch(root, owner);
  if (owner.run !== undefined) {
    appendEvent(new RunPaths(root, owner.runId), {
      type: "workspace.archived",
      time: new Date().toISOString(),
      runId: owner.runId,
      workspace: owner.name,
      branchDeleted: owner.workspace?.startPoint.kind !== "branch",
      ...(keptAs === undefined ? {} : { keptAs }),
    });
  }
  return { workspace: owner.name, branch: owner.branch, keptAs, savedWork, savedHead };
}

/**
 * Keeps a detached HEAD whose commits no ref holds as `refs/conductor/saved/<run>/<ws>/head`
 * (the worktree's HEAD goes with the worktree); undefined when there was nothing to keep.
 */
async function keepDetachedHead(
  root: string,
  worktree: string,
  owner: Owner,
): Promise<string | undefined> {
  const attached = await git(worktree, ["symbolic-ref", "-q", "HEAD"]).then(
    () => true,
    () => false,
  );
  if (attached) return undefined;
  const head = (
    await git(worktree, ["rev-parse", "--verify", "-q", "HEAD"]).catch(() => "")
  ).trim();
  if (head === "") return undefined;
  const unheld = (await git(root, ["rev-list", "--count", head, "--not", "--glob=refs/*"])).trim();
  if (Number(unheld) === 0) return undefined;
  const ref = `refs/conductor/saved/${owner.runId}/${owner.name}/head`;
  await git(root, ["update-ref", ref, head]);
  return ref;
}

/** Moves the branch to `refs/conductor/runs/<run-id>/<workspace>`; undefined when it is gone. */
async function keepBranch(root: string, owner: Owner): Promise<string | undefined> {
  const branchRef = `refs/heads/${owner.branch}`;
  const tip = (
    await git(root, ["for-each-ref", "--format=%(objectname)", branchRef]).catch(() => "")
  ).trim();
  if (tip === "") return undefined;
  const ref = `refs/conductor/runs/${owner.runId}/${owner.name}`;
  // Written before the branch goes, and only if that ref is not taken: the commits stay reachable.
  const existing = (await git(root, ["for-each-ref", "--format=%(objectname)", ref])).trim();
  if (existing === "") await git(root, ["update-ref", ref, tip, ""]);
  else if (existing !== tip) {
    const alternative = `${ref}-${tip.slice(0, 10)}`;
    await git(root, ["update-ref", alternative, tip]);
    await git(root, ["update-ref", "-d", branchRef, tip]);
    return alternative;
  }
  await git(root, ["update-ref", "-d", branchRef, tip]);
  return ref;
}
