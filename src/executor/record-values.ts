import type { RunState } from "./types.js";

/**
 * What is wrong with the values of a run's record that conductor's commands hand to git (commit
 * ids, branch names, worktree paths), or undefined when nothing is. The record is a file in the
 * repository that anything with a shell could have written, and a value of another form
 * (`--output=…` where a commit id belongs) would reach git as an option.
 */
export function recordValueProblem(state: RunState): string | undefined {
  const problems: string[] = [];
  const commit = (value: unknown, where: string) => {
    if (value !== undefined && !isCommitId(value)) problems.push(`${where} is not a commit id`);
  };
  const branch = (value: unknown, where: string) => {
    if (!isBranchName(value)) problems.push(`${where} is not a branch name`);
  };
  commit(state.plan.base?.commit, "the base commit");
  for (const [index, workspace] of state.plan.workspaces.entries()) {
    const name = shown(typeof workspace?.name === "string" ? workspace.name : `#${index + 1}`);
    branch(workspace?.branch, `the branch of workspace ${name}`);
    if (typeof workspace?.path !== "string" || !workspace.path.startsWith("/")) {
      problems.push(`the path of workspace ${name} is not an absolute path`);
    }
    const start = workspace?.startPoint as Record<string, unknown> | undefined;
    commit(start?.commit, `the start commit of workspace ${name}`);
    if (start?.branch !== undefined) branch(start.branch, `the start branch of workspace ${name}`);
    // `conductor pr` pushes to it: a URL or a path there would send the branch elsewhere.
    const upstream = start?.upstream as Record<string, unknown> | undefined;
    if (upstream !== undefined && upstream !== null) {
      if (!isRemoteName(upstream.remote)) {
        problems.push(`the upstream remote of workspace ${name} is not a remote's name`);
      }
      branch(upstream.branch, `the upstream branch of workspace ${name}`);
    }
  }
  for (const [name, workspace] of Object.entries(state.workspaces)) {
    commit(workspace?.startCommit, `the start commit of workspace ${shown(name)}`);
    commit(workspace?.commit, `the commit of workspace ${shown(name)}`);
  }
  return problems.length === 0 ? undefined : problems.slice(0, 3).join("; ");
}

/** A name as it can be printed: a forged one may hold terminal escapes. */
function shown(name: string): string {
  return /^[\w.-]+$/.test(name) ? name : JSON.stringify(name);
}

function isCommitId(value: unknown): boolean {
  return typeof value === "string" && /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(value);
}

/** A remote's name as `git remote add` takes it: not a URL, a path or an option. */
function isRemoteName(value: unknown): boolean {
  return typeof value === "string" && /^[\w][\w.-]*$/.test(value) && !value.includes("..");
}

/** What git itself would refuse as a branch name at its start, or anything it could misread. */
function isBranchName(value: unknown): boolean {
  return (
    typeof value === "string" &&
    value !== "" &&
    !value.startsWith("-") &&
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
    !/[\u0000-\u0020\u007f~^:?*[\\]|\.\./.test(value)
  );
}
