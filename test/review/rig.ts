import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { stringify } from "yaml";
import { type CliResult, conductor, startConductor } from "../helpers/cli.js";
import { createTestRepo, type TestRepo } from "../helpers/git-repo.js";

/** A test repository with a conductor.yaml whose agent is a shell command (no model needed). */
export interface ReviewRepo extends TestRepo {
  /** Folder the worktrees go in. */
  workspacesDir: string;
  /** Runs `conductor ...args` in the repository with its private home. */
  cli(args: readonly string[], env?: Record<string, string>): Promise<CliResult>;
  /** Starts `conductor ...args` without waiting (for signals and live runs). */
  start(args: readonly string[], env?: Record<string, string>): ReturnType<typeof startConductor>;
  /** Ids of the runs so far, oldest first. */
  runIds(): string[];
  /** Folder of a run (the latest by default). */
  runDir(runId?: string): string;
  /** Worktree path of a workspace. */
  worktree(name: string): string;
}

/** A task of the test config: its id and what the command agent runs. */
export interface TaskSpec {
  id: string;
  /** Shell command of the agent; default: writes `<id>.txt` and says so. */
  agent?: string;
  prompt?: string;
  check?: string | null;
  depends_on?: string[];
}

/**
 * Creates a repository whose conductor.yaml runs each task's `agent` shell command. `extra` is
 * merged into the config's top level (scripts, env…).
 */
export async function reviewRepo(
  tasks: readonly TaskSpec[],
  extra: Record<string, unknown> = {},
): Promise<ReviewRepo> {
  const repo = await createTestRepo({ "README.md": "# review\n", ".gitignore": ".env.local\n" });
  const workspacesDir = path.join(repo.home, "workspaces");
  const config = {
    version: 1,
    concurrency: 4,
    agent: {
      kind: "command",
      command:
        'echo "$CONDUCTOR_TASK_ID" > "$CONDUCTOR_TASK_ID.txt"; echo "wrote $CONDUCTOR_TASK_ID.txt"',
    },
    ...extra,
    workspaces: { dir: workspacesDir, ...(extra.workspaces as object | undefined) },
    tasks: tasks.map((task) => ({
      id: task.id,
      prompt: task.prompt ?? `Write ${task.id}.txt\n\nKeep it short.`,
      ...(task.agent === undefined ? {} : { agent: { command: task.agent } }),
      ...(task.check === undefined ? {} : { scripts: { check: task.check } }),
      ...(task.depends_on === undefined ? {} : { depends_on: task.depends_on }),
    })),
  };
  await repo.write({ "conductor.yaml": stringify(config) });
  await repo.commitAll("add conductor.yaml");
  const runsDir = path.join(repo.root, ".conductor", "runs");
  const runIds = () => {
    try {
      return readdirSync(runsDir).sort();
    } catch {
      return [];
    }
  };
  return {
    ...repo,
    workspacesDir,
    cli: (args, env) =>
      conductor(args, { cwd: repo.root, home: repo.home, ...(env ? { env } : {}) }),
    start: (args, env) =>
      startConductor(args, { cwd: repo.root, home: repo.home, ...(env ? { env } : {}) }),
    runIds,
    runDir: (runId) => path.join(runsDir, runId ?? (runIds().at(-1) as string)),
    worktree: (name) => path.join(workspacesDir, name),
  };
}

/** Runs `conductor run --output plain` (plus `args`) and fails the test on a usage error. */
export async function runAll(repo: ReviewRepo, args: readonly string[] = []): Promise<CliResult> {
  const result = await repo.cli(["run", "--output", "plain", ...args]);
  if (result.exitCode !== 0 && result.exitCode !== 1) {
    throw new Error(`conductor run exited ${result.exitCode}:\n${result.all}`);
  }
  return result;
}

/** Polls until `check` holds (or throws after `timeoutMs`). */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The text of a file, or "" when it does not exist (yet). */
export function readOr(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

/**
 * Pids of the live processes of a process group. Zombies do not count: in a container whose
 * init does not reap, a killed process can stay a zombie, but nothing of it runs any more.
 */
export function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (fields !== undefined && fields[0] !== "Z" && Number(fields[2]) === pgid) {
      members.push(Number(entry));
    }
  }
  return members;
}

/** Whether a process is alive (and not a zombie). */
export function processAlive(pid: number): boolean {
  const fields = statFields(pid);
  return fields !== undefined && fields[0] !== "Z";
}

/** The fields of /proc/<pid>/stat after the command name: state, ppid, pgid, … */
function statFields(pid: number): string[] | undefined {
  const stat = readOr(`/proc/${pid}/stat`);
  if (stat === "") return undefined;
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** Ends with SIGKILL the process groups a test started and empties the list (cleanup after a failure). */
export function killGroups(pgids: number[]): void {
  for (const pgid of pgids.splice(0)) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // already gone, as it should be
    }
  }
}
