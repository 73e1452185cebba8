// `conductor doctor --json` on a healthy setup and on one broken in the ways users break it: a
// damaged port registry, a worktree folder deleted by hand, a process left over from a killed run.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { codexProviderConfig } from "../../src/model-server/server.js";
import type { CheckResult } from "../../src/preflight/check.js";
import { groupAlive, signalGroup } from "../../src/process/groups.js";
import { conductor } from "../helpers/cli.js";
import { gitEnv, type TestRepo } from "../helpers/git-repo.js";
import { latestSummary, repoWithConfig, runIds, waitFor } from "../helpers/run-repo.js";
import { codexHomeForTest } from "../helpers/temp-homes.js";

const NO_CREDENTIALS = {
  OPENAI_API_KEY: undefined,
  CODEX_API_KEY: undefined,
  CODEX_ACCESS_TOKEN: undefined,
  ANTHROPIC_API_KEY: undefined,
  ANTHROPIC_BASE_URL: undefined,
  ANTHROPIC_AUTH_TOKEN: undefined,
} as unknown as Record<string, string>;

let repo: TestRepo | undefined;
const groups: number[] = [];
const folders: string[] = [];
afterEach(async () => {
  for (const group of groups.splice(0)) signalGroup(group, "SIGKILL");
  for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true });
  await repo?.remove();
  repo = undefined;
});

interface Doctor {
  exitCode: number;
  ok: boolean;
  checks: Record<string, CheckResult>;
  all: string;
}

async function doctor(env: Record<string, string> = {}): Promise<Doctor> {
  const { root, home } = repo as TestRepo;
  const result = await conductor(["doctor", "--json"], {
    cwd: root,
    home,
    env: { ...NO_CREDENTIALS, ...env },
  });
  const parsed = JSON.parse(result.stdout) as { ok: boolean; checks: CheckResult[] };
  return {
    exitCode: result.exitCode,
    ok: parsed.ok,
    checks: Object.fromEntries(parsed.checks.map((check) => [check.check, check])),
    all: result.all,
  };
}

/**
 * A repository whose codex talks to a local provider that needs no key, and one finished run of
 * a command task: a worktree, a port block, the exclude line.
 */
async function healthyRepo(): Promise<TestRepo> {
  repo = await repoWithConfig({
    env: { CODEX_HOME: await codexHomeForTest() },
    agent: { config: codexProviderConfig("http://127.0.0.1:9/v1") },
    tasks: [
      { id: "hello", prompt: "say hello", agent: { kind: "command", command: "echo hi > hi.txt" } },
      { id: "later", prompt: "for codex" },
    ],
  });
  const run = await conductor(["run", "hello", "--output", "plain"], {
    cwd: repo.root,
    home: repo.home,
  });
  expect(run.exitCode, run.all).toBe(0);
  return repo;
}

describe("conductor doctor", () => {
  it("finds nothing blocking on a healthy setup", async () => {
    const { home, root } = await healthyRepo();
    const result = await doctor();
    expect(result.exitCode, result.all).toBe(0);
    expect(result.ok).toBe(true);
    for (const name of [
      "node",
      "git",
      "config",
      "codex",
      "codex credentials",
      "port registry",
      "workspaces folder",
      "disk space",
      "stale worktrees",
      "leftover processes",
      "git exclude",
    ]) {
      expect(result.checks[name]?.status, `${name}: ${JSON.stringify(result.checks[name])}`).toBe(
        "ok",
      );
    }
    expect(result.checks["codex provider"]).toMatchObject({
      status: "info",
      detail: "scripted at http://127.0.0.1:9/v1 (from agent.config)",
    });
    expect(result.checks["port registry"]?.detail).toBe(
      `${path.join(home, ".conductor", "ports.json")}: 1 live reservation(s)`,
    );
    expect(result.checks["git exclude"]?.detail).toBe(
      `${path.join(root, ".git", "info", "exclude")} has /.conductor/runs/`,
    );
    // Linux with Perl, as this project's CI: a daemon that clears its environment is ended too.
    expect(result.checks["leftover daemons"]).toMatchObject({
      status: "ok",
      detail: expect.stringContaining("also ones that clear their environment (reaper: "),
    });
    // claude is not used by this config: whatever its state, it does not block.
    expect(result.checks["claude credentials"]?.status).not.toBe("fail");
  });

  it("reports a damaged port registry, a worktree deleted by hand and a leftover process, each with a fix that works", async () => {
    const { home, root } = await healthyRepo();
    const worktree = latestSummary(root).workspaces[0]?.path as string;
    const runId = runIds(root)[0] as string;
    const registry = path.join(home, ".conductor", "ports.json");
    await writeFile(registry, '{"reservations": [ {"start": 2');
    await rm(worktree, { recursive: true, force: true });
    // A process of that run that outlived its conductor, in a group of its own.
    const leftover = spawn("sleep", ["60"], {
      detached: true,
      stdio: "ignore",
      env: { ...process.env, CONDUCTOR_RUN_ID: runId },
    });
    const pgid = leftover.pid as number;
    groups.push(pgid);
    // Doctor finds it by its command line and environment, which are sleep's once exec is done.
    await waitFor(
      () => groupAlive(pgid) && commandLine(pgid) === "sleep 60",
      20_000,
      "the leftover process to start",
    );

    const result = await doctor();
    // Each of these is worth fixing, none stops a run: the next run rebuilds the registry.
    expect(result.exitCode, result.all).toBe(0);
    expect(result.checks["port registry"]?.status).toBe("warn");
    expect(result.checks["port registry"]?.detail).toContain(`${registry} is damaged (not JSON`);
    expect(result.checks["stale worktrees"]?.status).toBe("warn");
    expect(result.checks["stale worktrees"]?.detail).toContain(`${worktree} (conductor/hello)`);
    expect(result.checks["stale worktrees"]?.fix).toBe(`git -C ${root} worktree prune`);
    expect(result.checks["leftover processes"]?.status).toBe("warn");
    expect(result.checks["leftover processes"]?.detail).toContain(`run ${runId} (-${pgid})`);
    expect(result.checks["leftover processes"]?.fix).toBe(`kill -TERM -${pgid}`);

    // Each fix works as printed.
    await rm(registry);
    const { execaCommand } = await import("execa");
    await execaCommand(result.checks["stale worktrees"]?.fix as string, { shell: true });
    await execaCommand(result.checks["leftover processes"]?.fix as string, { shell: true });
    await waitFor(() => !groupAlive(pgid), 20_000, "the leftover process to exit");
    const fixed = await doctor();
    expect(fixed.exitCode, fixed.all).toBe(0);
    expect(fixed.checks["stale worktrees"]?.status).toBe("ok");
    expect(fixed.checks["leftover processes"]?.status).toBe("ok");
  });

  it("blocks when something other than a file stands where the port registry goes", async () => {
    const { home } = await healthyRepo();
    const registry = path.join(home, ".conductor", "ports.json");
    await rm(registry);
    await mkdir(registry);
    const result = await doctor();
    expect(result.exitCode, result.all).toBe(1);
    expect(result.ok).toBe(false);
    expect(result.checks["port registry"]).toMatchObject({
      status: "fail",
      fix: `mv ${registry} ${registry}.moved`,
    });
    const { execaCommand } = await import("execa");
    await execaCommand(result.checks["port registry"]?.fix as string, { shell: true });
    expect((await doctor()).exitCode).toBe(0);
  });

  it("warns about the old exclude line that hid all of .conductor/", async () => {
    const { root } = await healthyRepo();
    const exclude = path.join(root, ".git", "info", "exclude");
    const text = await readFile(exclude, "utf8");
    await writeFile(exclude, text.replace("/.conductor/runs/", "/.conductor/"));
    const result = await doctor();
    expect(result.checks["git exclude"]).toMatchObject({
      status: "warn",
      fix: `replace the line /.conductor/ with /.conductor/runs/ in ${exclude}`,
    });
    expect(result.exitCode, result.all).toBe(0);
  });

  it("reports gh as information when it is not on PATH, naming every command that uses it", async () => {
    await healthyRepo();
    // A PATH with node and git only.
    const bin = await mkdtemp(path.join(os.tmpdir(), "conductor-path-"));
    folders.push(bin);
    const { execa } = await import("execa");
    for (const name of ["node", "git"]) {
      const found = (await execa("sh", ["-c", `command -v ${name}`])).stdout.trim();
      await symlink(found, path.join(bin, name));
    }
    const result = await doctor({ PATH: bin });
    expect(result.checks.gh?.status).toBe("info");
    const detail = result.checks.gh?.detail ?? "";
    expect(detail).toMatch(/^gh is not installed \(/);
    // Each command that runs gh (review/github.ts's callers), and the config keys that make a plan need it.
    for (const user of [
      "`conductor pr`",
      "`import`",
      "`checks`",
      "`merge`",
      "`issue:`",
      "`tasks_from`",
    ])
      expect(detail).toContain(user);
    expect(detail).not.toContain("only");
    // Nor Perl on that PATH: doctor says what that leaves out, and how to have it.
    expect(result.checks["leftover daemons"]).toMatchObject({
      status: "info",
      detail: expect.stringContaining(
        "(no perl on PATH): one started with `env -i` can outlive it",
      ),
      fix: "install perl",
    });
    expect(result.exitCode, result.all).toBe(0);
  });

  it("blocks when the config's codex has no credentials, and says how to log in", async () => {
    repo = await repoWithConfig({
      env: { CODEX_HOME: await codexHomeForTest() },
      tasks: [{ id: "one", prompt: "x" }],
    });
    const result = await doctor();
    expect(result.exitCode, result.all).toBe(1);
    expect(result.checks["codex credentials"]?.status).toBe("fail");
    expect(result.checks["codex credentials"]?.fix).toContain("login` or set OPENAI_API_KEY");
  });
});

describe("conductor doctor in a repository without commits", () => {
  it("gives the config row the remedy that works (commit something), not validate", async () => {
    const base = await mkdtemp(path.join(os.tmpdir(), "conductor-doctor-empty-"));
    folders.push(base);
    const root = path.join(base, "repo");
    const home = path.join(base, "home");
    await mkdir(root);
    await mkdir(home);
    const git = (...args: string[]) =>
      execa("git", args, { cwd: root, env: { ...gitEnv(home), GIT_CONFIG_GLOBAL: "/dev/null" } });
    await git("init", "-q", "-b", "main");
    await writeFile(
      path.join(root, "conductor.yaml"),
      "version: 1\ntasks:\n  - id: one\n    prompt: x\n    agent: { kind: command, command: 'true' }\n",
    );
    const ask = async () => {
      const result = await conductor(["doctor", "--json"], { cwd: root, home });
      const checks = (JSON.parse(result.stdout) as { checks: CheckResult[] }).checks;
      return checks.find((check) => check.check === "config") as CheckResult;
    };

    const before = await ask();
    expect(before.status).toBe("fail");
    expect(before.detail).toContain("has no commits yet");
    expect(before.fix).toContain("git commit --allow-empty -m init");

    await git("commit", "--allow-empty", "-q", "-m", "init");
    expect((await ask()).status).toBe("ok");
  });
});

/** A process's command line as `ps` shows it, or "" once it is gone. */
function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0").filter(Boolean).join(" ");
  } catch {
    return "";
  }
}
