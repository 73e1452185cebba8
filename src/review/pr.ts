import { readFile } from "node:fs/promises";
import path from "node:path";
import { redactUrl } from "../agents/provider.js";
import { OperationError, UsageError } from "../errors.js";
import type { FoundWorkspace } from "../executor/find-workspace.js";
import { RunPaths, writeFileAtomic } from "../executor/run-store.js";
import { branchExists, git, gitMessage } from "../git/worktree.js";
import { commandIn, gitCommand, placeholder } from "../hint/command.js";
import { describeFailure } from "../report/format.js";
import { assertCanDescribe, describeWithAgent } from "./describe.js";
import { createPullRequest, type GhRun, type GitHubCli, runGhJson } from "./github.js";
import { editPullRequest, findPullRequest } from "./github-pr.js";
import { gatherPullRequestFacts } from "./pr-facts.js";
import { compareUrl, gitHubRepository, pullRequestBody, pullRequestTitle } from "./pull-request.js";
import { scriptRedactor } from "./workspace-process.js";

/** A workspace ready to be proposed: checked, with its title and body written to a file. */
export interface PullRequestDraft {
  found: FoundWorkspace;
  /** Branch the pull request goes into. */
  base: string;
  title: string;
  /** The body, written to `pr.md` in the workspace's run folder. */
  bodyFile: string;
  /** Log of git push and gh for this workspace. */
  logFile: string;
}

/**
 * Checks every workspace before anything is pushed: it succeeded (unless `force`), its branch
 * exists and has commits beyond its start. Writes each pull request's body to `pr.md`.
 */
export async function draftPullRequests(
  found: readonly FoundWorkspace[],
  options: { force: boolean; describe?: { signal: AbortSignal } },
): Promise<PullRequestDraft[]> {
  if (options.describe !== undefined) assertCanDescribe(found);
  const problems: string[] = [];
  const drafts: PullRequestDraft[] = [];
  for (const entry of found) {
    const { workspace, state, run } = entry;
    const root = run.plan.repo.root;
    if (state.status !== "succeeded" && !options.force) {
      const why =
        state.failure === undefined
          ? state.status
          : `${state.status}: ${describeFailure(state.failure)}`;
      problems.push(`${workspace.name} did not succeed (${why})`);
      continue;
    }
    const keptAs = state.archived?.keptAs;
    if (keptAs !== undefined) {
      // The branch name belongs to the later run now: pushing it would propose that run's work.
      problems.push(
        `${workspace.name}: a later run took the name ${workspace.branch}; this run's work is kept as ${keptAs} (make a branch of it: git branch <name> ${keptAs})`,
      );
      continue;
    }
    if (!(await branchExists(root, workspace.branch))) {
      problems.push(`${workspace.name}: its branch ${workspace.branch} does not exist`);
      continue;
    }
    const start = state.startCommit ?? run.plan.base.commit;
    const ahead = Number(
      (await git(root, ["rev-list", "--count", `${start}..refs/heads/${workspace.branch}`])).trim(),
    );
    if (!(ahead > 0)) {
      problems.push(`${workspace.name}: ${workspace.branch} has no commits to propose`);
      continue;
    }
    const paths = new RunPaths(root, run.runId);
    const finalMessage =
      state.agent.finalMessage ??
      (await readFile(paths.finalMessageFile(workspace.name), "utf8").catch(() => undefined));
    const bodyFile = path.join(paths.workspaceDir(workspace.name), "pr.md");
    // The run recorded prompt and final message redacted; this also covers runs recorded by an
    // older conductor and secrets added to the environment since.
    const redactor = await scriptRedactor(entry);
    const facts = await gatherPullRequestFacts(entry, finalMessage);
    const body = redactor.redact(pullRequestBody(entry, facts));
    let title = pullRequestTitle(redactor.redact(workspace.prompt));
    if (options.describe !== undefined) {
      // The agent's draft replaces conductor's; problems found above still come first.
      if (problems.length > 0) continue;
      const described = await describeWithAgent(entry, body, options.describe.signal);
      title = redactor.redact(described.title);
      writeFileAtomic(bodyFile, redactor.redact(described.body));
    } else {
      writeFileAtomic(bodyFile, body);
    }
    drafts.push({
      found: entry,
      base: await baseBranch(entry),
      title,
      bodyFile,
      logFile: path.join(paths.workspaceDir(workspace.name), "pr.log"),
    });
  }
  if (problems.length > 0) {
    throw new UsageError(
      `no pull request was opened:\n${problems.map((line) => `  ${line}`).join("\n")}`,
      { hint: "Pass --force to propose workspaces that did not succeed." },
    );
  }
  return drafts;
}

/** The URL of the origin remote, or undefined when there is none. */
export async function originUrl(root: string): Promise<string | undefined> {
  const url = await git(root, ["remote", "get-url", "origin"]).catch(() => "");
  return url.trim() === "" ? undefined : url.trim();
}

/** The exact commands (and the compare page, on GitHub) that open the pull request by hand. */
export function manualSteps(draft: PullRequestDraft, origin: string | undefined): string[] {
  const { branch } = draft.found.workspace;
  const steps: string[] = [];
  if (origin === undefined) steps.push("git remote add origin <url of the repository>");
  steps.push(gitCommand(draft.found.run.plan.repo.root, ["push", "-u", "origin", branch]));
  const repository = origin === undefined ? undefined : gitHubRepository(origin);
  if (repository !== undefined) {
    steps.push(`then open: ${compareUrl(repository, draft.base, branch)}`);
  } else {
    // A remote URL can carry a token (https://oauth2:<token>@host/…, as CI clones set it):
    // this is printed, often into a CI log.
    steps.push(
      `then open a pull request from ${branch} into ${draft.base} on ${origin === undefined ? "the remote" : redactUrl(origin)}`,
    );
  }
  return steps;
}

/**
 * Pushes the branch (never forced: a rejected push means the remote has work this branch lacks)
 * and opens the pull request with gh, or, when the branch has an open one, replaces its title and
 * body (`gh pr edit --body-file`). Returns its URL and whether it existed.
 */
export async function pushAndOpen(
  draft: PullRequestDraft,
  cli: Extract<GitHubCli, { status: "ready" }>,
  options: { draft: boolean; signal: AbortSignal },
): Promise<{ url: string; updated: boolean }> {
  const { workspace, run } = draft.found;
  const root = run.plan.repo.root;
  const ghRun: GhRun = {
    cwd: root,
    logFile: draft.logFile,
    signal: options.signal,
    redactor: await scriptRedactor(draft.found),
  };
  if (workspace.pullRequest !== undefined) {
    const url = await updatePullRequest(draft, workspace.pullRequest, cli.file, ghRun);
    return { url, updated: true };
  }
  // A task that continued an existing branch pushes to that branch's upstream.
  const start = workspace.startPoint;
  const upstream = start.kind === "branch" ? start.upstream : undefined;
  const remote = upstream?.remote ?? "origin";
  const head = upstream?.branch ?? workspace.branch;
  // Asked before pushing: if GitHub cannot be asked, nothing has changed yet.
  const existing = await findPullRequest(cli.file, head, ghRun);
  if (existing.found === "error") {
    throw new OperationError(
      `cannot tell whether ${head} has a pull request: ${existing.message}; nothing was pushed`,
    );
  }
  try {
    await git(root, [
      "push",
      ...(upstream === undefined ? ["--set-upstream"] : []),
      remote,
      `refs/heads/${workspace.branch}:refs/heads/${head}`,
    ]);
  } catch (error) {
    throw new OperationError(
      `git push of ${workspace.branch} failed: ${gitMessage(error)}; no pull request was opened`,
      { hint: "conductor never force-pushes; bring the branch up to date with the remote first." },
    );
  }
  if (existing.found === true && existing.pr.state === "OPEN") {
    const { pr } = existing;
    const edited = await editPullRequest(
      cli.file,
      pr.number,
      { title: draft.title, bodyFile: draft.bodyFile },
      ghRun,
    );
    if (!edited.ok) {
      throw new OperationError(
        `${workspace.branch} was pushed, but PR #${pr.number} could not be updated: ${edited.message}`,
        {
          hint: `Update it by hand: ${commandIn(root, ["gh", "pr", "edit", String(pr.number), "--body-file", draft.bodyFile])}`,
        },
      );
    }
    return { url: pr.url, updated: true };
  }
  const created = await createPullRequest(
    cli.file,
    {
      head,
      base: draft.base,
      title: draft.title,
      bodyFile: draft.bodyFile,
      draft: options.draft,
    },
    ghRun,
  );
  if (!created.ok) {
    throw new OperationError(
      `${workspace.branch} was pushed, but the pull request could not be opened: ${created.message}`,
      {
        // The branch as pushed (a continued branch's upstream), with the title and body made.
        hint: `Open it by hand: ${commandIn(root, ["gh", "pr", "create", "--head", head, "--base", draft.base, "--title", draft.title, "--body-file", draft.bodyFile, ...(options.draft ? ["--draft"] : [])])}`,
      },
    );
  }
  return { url: created.url, updated: false };
}

/**
 * A `pr:` task's work goes to the pull request it started from: its branch is pushed onto the
 * pull request's head branch (never forced), which updates that pull request. Returns its URL.
 */
async function updatePullRequest(
  draft: PullRequestDraft,
  number: number,
  gh: string,
  ghRun: GhRun,
): Promise<string> {
  const { workspace, run } = draft.found;
  const root = run.plan.repo.root;
  const answer = await runGhJson(
    gh,
    ["pr", "view", String(number), "--json", "headRefName,isCrossRepository,url"],
    ghRun,
  );
  const facts = answer.ok
    ? (answer.value as { headRefName?: unknown; isCrossRepository?: unknown; url?: unknown })
    : undefined;
  if (facts === undefined || typeof facts.headRefName !== "string") {
    throw new OperationError(
      `pull request #${number} could not be read: ${answer.ok ? "gh printed no head branch" : answer.message}; nothing was pushed`,
    );
  }
  if (facts.isCrossRepository === true) {
    throw new OperationError(
      `pull request #${number} comes from a fork; conductor pushes only to origin, so nothing was pushed`,
      {
        hint: `Push it to the fork yourself: ${gitCommand(root, ["push", placeholder("<fork remote>"), `refs/heads/${workspace.branch}:refs/heads/${facts.headRefName}`])}`,
      },
    );
  }
  try {
    await git(root, [
      "push",
      "origin",
      `refs/heads/${workspace.branch}:refs/heads/${facts.headRefName}`,
    ]);
  } catch (error) {
    throw new OperationError(
      `git push of ${workspace.branch} to pull request #${number} (${facts.headRefName}) failed: ${gitMessage(error)}`,
      { hint: "conductor never force-pushes; the pull request has commits this branch lacks." },
    );
  }
  return typeof facts.url === "string" ? facts.url : `pull request #${number}`;
}

/**
 * The branch a pull request goes into: the base the run started from when it is a branch
 * (`main`, or `origin/main` as `main`), else the repository's default branch.
 */
async function baseBranch(found: FoundWorkspace): Promise<string> {
  const { plan } = found.run;
  const ref = plan.base.ref.replace(/^(?:refs\/heads\/|refs\/remotes\/origin\/|origin\/)/, "");
  const root = plan.repo.root;
  if (
    (await branchExists(root, ref)) ||
    (await git(root, ["rev-parse", "--verify", "--quiet", `refs/remotes/origin/${ref}`]).catch(
      () => "",
    )) !== ""
  ) {
    return ref;
  }
  return plan.repo.defaultBranch;
}
