// Preflight: before a run creates anything, the real codex and claude programs are checked for a
// version conductor reads and for credentials, and the workspaces folder for room. A run that
// could not work exits 2 at once with one line per problem and nothing created.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  codexProviderConfig,
  type ModelServer,
  SCRIPTED_MODEL,
  sequenceScript,
  startModelServer,
} from "../../src/model-server/server.js";
import { CLI, type CliResult, conductor, LAUNCHER } from "../helpers/cli.js";
import type { TestRepo } from "../helpers/git-repo.js";
import { repoWithConfig, tasks } from "../helpers/run-repo.js";
import { claudeHomeForTest, codexHomeForTest } from "../helpers/temp-homes.js";

/** No credentials from the machine running the tests may leak into these runs. */
const NO_CREDENTIALS = {
  OPENAI_API_KEY: undefined,
  CODEX_API_KEY: undefined,
  CODEX_ACCESS_TOKEN: undefined,
  OPENAI_BASE_URL: undefined,
  ANTHROPIC_API_KEY: undefined,
  ANTHROPIC_AUTH_TOKEN: undefined,
  ANTHROPIC_BASE_URL: undefined,
  CLAUDE_CODE_OAUTH_TOKEN: undefined,
  CLAUDE_CODE_USE_BEDROCK: undefined,
  CLAUDE_CODE_USE_VERTEX: undefined,
  CLAUDE_CONFIG_DIR: undefined,
} as unknown as Record<string, string>;

let repo: TestRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

async function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<CliResult & { ms: number }> {
  const started = Date.now();
  const result = await conductor(args, {
    cwd: (repo as TestRepo).root,
    home: (repo as TestRepo).home,
    env: { ...NO_CREDENTIALS, ...env },
  });
  return { ...result, ms: Date.now() - started };
}

/** Nothing of a run exists: no branch, no worktree, no run folder, no workspaces folder. */
async function expectNothingCreated(workspacesDir: string) {
  const { git, root } = repo as TestRepo;
  expect((await git("branch", "--format=%(refname:short)")).split("\n")).toEqual(["main"]);
  expect((await git("worktree", "list", "--porcelain")).match(/^worktree /gm)).toHaveLength(1);
  expect(existsSync(path.join(root, ".conductor"))).toBe(false);
  expect(existsSync(workspacesDir)).toBe(false);
  expect(await git("status", "--porcelain")).toBe("");
}

describe("preflight of codex", () => {
  it("started through npm's node_modules/.bin, the no-key remedy names `npx conductor demo`", async () => {
    const codexHome = await codexHomeForTest(); // private: no auth.json
    repo = await repoWithConfig({ env: { CODEX_HOME: codexHome }, tasks: tasks("one") });
    // As npx and npm scripts put it: the project's node_modules/.bin first on PATH.
    const bin = path.join(repo.home, "project", "node_modules", ".bin");
    await mkdir(bin, { recursive: true });
    await symlink(LAUNCHER, path.join(bin, "conductor"));
    const result = await run(["run"], { PATH: `${bin}${path.delimiter}${process.env.PATH}` });
    expect(result.exitCode, result.all).toBe(2);
    expect(result.stderr).toContain("`npx conductor demo` runs without one");
  });

  it("stops a run with no key and no login at once: exit 2, the remedy, nothing created", async () => {
    const codexHome = await codexHomeForTest(); // private: no auth.json
    repo = await repoWithConfig({ env: { CODEX_HOME: codexHome }, tasks: tasks("one", "two") });
    const workspaces = path.join(repo.home, "workspaces");
    // Timings on a shared machine are noisy: compare the fastest of three of each, interleaved.
    const baselines: number[] = [];
    const runs: (CliResult & { ms: number })[] = [];
    for (let i = 0; i < 3; i++) {
      const baseline = await run(["run", "--dry-run", "--no-preflight"]);
      expect(baseline.exitCode, baseline.all).toBe(0);
      baselines.push(baseline.ms);
      runs.push(await run(["run"]));
    }
    const result = runs[0] as CliResult & { ms: number };
    const fastest = Math.min(...runs.map((each) => each.ms));
    const fastestBaseline = Math.min(...baselines);
    expect(result.exitCode, result.all).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("conductor: preflight found 1 problem; nothing was created:");
    expect(result.stderr).toContain(
      `codex is not logged in (CODEX_HOME ${codexHome}) and no OPENAI_API_KEY or CODEX_API_KEY is set: run \`CODEX_HOME=${codexHome} node `,
    );
    expect(result.stderr).toContain("`conductor demo` runs without one");
    expect(result.stderr).toContain("`conductor doctor` checks everything conductor needs");
    // One line per problem, even with two workspaces using the same codex.
    expect(result.stderr.match(/not logged in/g)).toHaveLength(1);
    // Well under two seconds: preflight costs little more than planning alone.
    expect(fastest - fastestBaseline, `${fastest} ms against ${fastestBaseline} ms`).toBeLessThan(
      1000,
    );
    expect(fastest).toBeLessThan(2000);
    await expectNothingCreated(workspaces);
  });

  it("the printed login command works as printed: after it, the run passes preflight", async () => {
    const codexHome = await codexHomeForTest();
    repo = await repoWithConfig({ env: { CODEX_HOME: codexHome }, tasks: tasks("one") });
    const failed = await run(["run", "--dry-run"]);
    expect(failed.exitCode).toBe(2);
    const login = /run `([^`]+)`/.exec(failed.stderr)?.[1] as string;
    // `codex login --with-api-key` reads the key from stdin, as a person would paste it.
    execFileSync("/bin/sh", ["-c", `${login} --with-api-key`], {
      input: "sk-test-not-a-real-key\n",
      env: { ...process.env, ...NO_CREDENTIALS, HOME: (repo as TestRepo).home },
      stdio: ["pipe", "ignore", "ignore"],
    });
    const passed = await run(["run", "--dry-run"]);
    expect(passed.exitCode, passed.all).toBe(0);
    expect(passed.stdout).toContain("(dry run: nothing was created; preflight passed)");
  });

  it("passes with a key in the environment", async () => {
    repo = await repoWithConfig({
      env: { CODEX_HOME: await codexHomeForTest() },
      tasks: tasks("one"),
    });
    const result = await run(["run", "--dry-run"], { OPENAI_API_KEY: "sk-test-not-a-real-key" });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain("preflight passed");
  });

  it("the printed --no-preflight command repeats the run's tasks and options", async () => {
    repo = await repoWithConfig({
      env: { CODEX_HOME: await codexHomeForTest() },
      tasks: tasks("one", "two", "three"),
    });
    const failed = await run(["run", "one", "--shard", "1/1", "--concurrency", "1", "--dry-run"]);
    expect(failed.exitCode, failed.all).toBe(2);
    const skip = /`(conductor run[^`]*--no-preflight)`/.exec(failed.stderr)?.[1];
    expect(skip).toBe("conductor run one --shard 1/1 --concurrency 1 --dry-run --no-preflight");
    // As printed, it plans what was asked: task one alone, not every task of the file.
    const pasted = await run((skip as string).split(" ").slice(1));
    expect(pasted.exitCode, pasted.all).toBe(0);
    expect(pasted.stdout).toMatch(/^1 workspace \(of 3\), shard 1\/1 from main/);
  });

  it("--dry-run runs it and --no-preflight skips it", async () => {
    repo = await repoWithConfig({
      env: { CODEX_HOME: await codexHomeForTest() },
      tasks: tasks("one"),
    });
    const checked = await run(["run", "--dry-run"]);
    expect(checked.exitCode).toBe(2);
    expect(checked.stdout).toContain("WORKSPACE"); // the plan is still shown
    expect(checked.stderr).toContain("codex is not logged in");
    const skipped = await run(["run", "--dry-run", "--no-preflight"]);
    expect(skipped.exitCode, skipped.all).toBe(0);
    expect(skipped.stdout).toContain("(dry run: nothing was created)");
  });

  it("names the variable a custom provider's env_key needs", async () => {
    const provider =
      '{ name = "corp", base_url = "http://127.0.0.1:9/v1", wire_api = "responses", env_key = "CORP_LLM_KEY" }';
    repo = await repoWithConfig({
      env: { CODEX_HOME: await codexHomeForTest() },
      agent: { config: { model_provider: '"corp"', "model_providers.corp": provider } },
      tasks: tasks("one"),
    });
    const missing = await run(["run", "--dry-run"]);
    expect(missing.exitCode, missing.all).toBe(2);
    expect(missing.stderr).toContain(
      "codex provider corp needs its key in CORP_LLM_KEY, which is not set: set CORP_LLM_KEY in the environment or in the config's env",
    );
    const set = await run(["run", "--dry-run"], { CORP_LLM_KEY: "k" });
    expect(set.exitCode, set.all).toBe(0);
  });

  it("reads a custom provider from CODEX_HOME/config.toml", async () => {
    const codexHome = await codexHomeForTest();
    await writeFile(
      path.join(codexHome, "config.toml"),
      'model_provider = "local"\n[model_providers.local]\nname = "local"\nbase_url = "http://127.0.0.1:9/v1"\nenv_key = "LOCAL_KEY"\n',
    );
    repo = await repoWithConfig({ env: { CODEX_HOME: codexHome }, tasks: tasks("one") });
    const result = await run(["run", "--dry-run"]);
    expect(result.exitCode, result.all).toBe(2);
    expect(result.stderr).toContain("codex provider local needs its key in LOCAL_KEY");
  });
});

describe("preflight with a custom provider at the scripted server", () => {
  let server: ModelServer;
  beforeAll(async () => {
    server = await startModelServer({
      script: sequenceScript([
        { kind: "exec", cmd: "echo done > done.txt" },
        { kind: "message", text: "Done." },
      ]),
    });
    return () => server.close();
  });

  it("passes with no key at all, and the run works", async () => {
    repo = await repoWithConfig({
      env: { CODEX_HOME: await codexHomeForTest() },
      agent: { model: SCRIPTED_MODEL, config: codexProviderConfig(server.url) },
      tasks: tasks("one"),
    });
    const result = await run(["run", "--output", "plain"]);
    expect(result.exitCode, result.all).toBe(0);
    expect(await repo.git("show", "conductor/one:done.txt")).toBe("done");
  });
});

describe("preflight of a follow-up", () => {
  it("stops `conductor continue` when the agent's key has gone, and lets it through with the key", async () => {
    const server = await startModelServer({ script: () => ({ kind: "message", text: "Done." }) });
    try {
      const provider = `{ name = "corp", base_url = ${JSON.stringify(server.url)}, wire_api = "responses", env_key = "CORP_KEY", request_max_retries = 0, stream_max_retries = 0 }`;
      repo = await repoWithConfig({
        env: { CODEX_HOME: await codexHomeForTest() },
        agent: {
          model: SCRIPTED_MODEL,
          config: { model_provider: '"corp"', "model_providers.corp": provider },
        },
        tasks: tasks("one"),
      });
      const key = { CORP_KEY: "corp-test-key" };
      const first = await run(["run", "--output", "plain"], key);
      expect(first.exitCode, first.all).toBe(0);
      const refused = await run(["continue", "one", "more", "--output", "plain"]);
      expect(refused.exitCode, refused.all).toBe(2);
      expect(refused.stderr).toContain("preflight found 1 problem; nothing was changed:");
      expect(refused.stderr).toContain("codex provider corp needs its key in CORP_KEY");
      const requests = server.requests.length;
      expect(requests).toBe(1); // the refused follow-up never reached the model
      const followed = await run(["continue", "one", "more", "--output", "plain"], key);
      expect(followed.exitCode, followed.all).toBe(0);
      expect(server.requests.length).toBe(requests + 1);
    } finally {
      await server.close();
    }
  });
});

describe("preflight of claude", () => {
  it("stops a run when claude has no key and no login", async () => {
    const home = await claudeHomeForTest();
    repo = await repoWithConfig({
      env: { HOME: home, CLAUDE_CONFIG_DIR: path.join(home, ".claude") },
      agent: { kind: "claude" },
      tasks: tasks("one"),
    });
    const result = await run(["run"]);
    expect(result.exitCode, result.all).toBe(2);
    expect(result.stderr).toContain(
      "claude is not logged in and no ANTHROPIC_API_KEY is set: run `",
    );
    expect(result.stderr).toContain("auth login` or set ANTHROPIC_API_KEY");
    expect(result.ms).toBeLessThan(5000);
    await expectNothingCreated(path.join(repo.home, "workspaces"));
  });

  it("passes with ANTHROPIC_API_KEY, or ANTHROPIC_BASE_URL, or claude's own login file", async () => {
    const home = await claudeHomeForTest();
    repo = await repoWithConfig({
      env: { HOME: home, CLAUDE_CONFIG_DIR: path.join(home, ".claude") },
      agent: { kind: "claude" },
      tasks: tasks("one"),
    });
    const envs: Record<string, string>[] = [
      { ANTHROPIC_API_KEY: "k" },
      { ANTHROPIC_BASE_URL: "http://127.0.0.1:9" },
    ];
    for (const env of envs) {
      const result = await run(["run", "--dry-run"], env);
      expect(result.exitCode, result.all).toBe(0);
    }
    await writeFile(path.join(home, ".claude", ".credentials.json"), "{}");
    const loggedIn = await run(["run", "--dry-run"]);
    expect(loggedIn.exitCode, loggedIn.all).toBe(0);
  });
});

describe("preflight of the workspaces folder", () => {
  const key = { OPENAI_API_KEY: "sk-test-not-a-real-key" };

  it("stops a run whose workspaces folder cannot be written", async (context) => {
    // As root the test runs conductor as nobody, who must be able to reach this checkout's build.
    if (process.getuid?.() === 0 && !otherUsersReach(CLI)) {
      context.skip(`nobody cannot reach ${CLI} (the checkout is in a private folder)`);
    }
    const locked = await realTemp("conductor-locked-");
    await chmod(path.dirname(locked), 0o755);
    const dir = path.join(locked, "workspaces");
    repo = await repoWithConfig({
      env: { CODEX_HOME: await codexHomeForTest() },
      workspaces: { dir },
      tasks: tasks("one"),
    });
    await chmod(locked, 0o555);
    // root writes anywhere: run conductor as an ordinary user then.
    const result = await runAsUser(["run"], key);
    expect(result.exitCode, result.all).toBe(2);
    expect(result.stderr).toContain(
      `${locked} is not writable (needed to make ${dir}): make it writable`,
    );
    expect(existsSync(path.join((repo as TestRepo).root, ".conductor"))).toBe(false);
    await chmod(locked, 0o755);
    await rm(locked, { recursive: true, force: true });
  });

  it("stops a run whose workspaces folder would be made inside a file", async () => {
    // Outside the repository: a workspaces folder inside it is refused by the plan already.
    const outside = await realTemp("conductor-file-");
    await writeFile(path.join(outside, "notes.txt"), "a file\n");
    repo = await repoWithConfig({
      env: { CODEX_HOME: await codexHomeForTest() },
      workspaces: { dir: path.join(outside, "notes.txt", "workspaces") },
      tasks: tasks("one"),
    });
    const result = await run(["run"], key);
    await rm(outside, { recursive: true, force: true });
    expect(result.exitCode, result.all).toBe(2);
    expect(result.stderr).toContain(`notes.txt is a file: set workspaces.dir to a folder`);
  });
});

describe("preflight of the first program a workspace starts", () => {
  it("stops a run whose agent command is not a builtin or on PATH: exit 2 at once, nothing created", async () => {
    repo = await repoWithConfig({
      agent: { kind: "command", command: 'no-such-agent-tool --prompt "$CONDUCTOR_PROMPT_FILE"' },
      tasks: tasks("one", "two"),
    });

    const result = await run(["run"]);
    const doctor = await run(["doctor"]);

    expect(result.exitCode, result.all).toBe(2);
    expect(result.ms).toBeLessThan(3000);
    expect(result.stderr).toContain(
      "agent.command starts with no-such-agent-tool, which is not a shell builtin or on PATH: install no-such-agent-tool",
    );
    await expectNothingCreated(path.join((repo as TestRepo).home, "workspaces"));
    expect(doctor.exitCode, doctor.all).toBe(1);
    expect(doctor.stdout).toMatch(/^agent command +fail /m);
  });

  it.each([
    [{ scripts: { setup: "no-such-installer install --frozen-lockfile" } }, "scripts.setup"],
    [
      {
        scripts: { setup: "true" },
        workspaces: { seed: { folders: ["node_modules"], script: "no-such-installer install" } },
      },
      "workspaces.seed.script",
    ],
  ])(
    "stops a run whose first script starts with a missing program (%j)",
    async (config, setting) => {
      repo = await repoWithConfig(
        { ...config, agent: { kind: "command", command: "true" }, tasks: tasks("one") },
        { "package-lock.json": "{}\n", ".gitignore": "node_modules/\n" },
      );
      const result = await run(["run"]);
      expect(result.exitCode, result.all).toBe(2);
      expect(result.stderr).toContain(
        `${setting} starts with no-such-installer, which is not a shell builtin or on PATH: install no-such-installer`,
      );
      await expectNothingCreated(path.join((repo as TestRepo).home, "workspaces"));
    },
  );

  it("lets through builtins, programs on PATH, paths, and commands a setup script may install", async () => {
    repo = await repoWithConfig({
      agent: { kind: "command", command: "true" },
      tasks: [
        { id: "builtin", prompt: "x", agent: { kind: "command", command: "echo hi > a.txt" } },
        { id: "on-path", prompt: "x", agent: { kind: "command", command: "git --version" } },
        { id: "a-path", prompt: "x", agent: { kind: "command", command: "./tool.sh || true" } },
        {
          id: "installed",
          prompt: "x",
          scripts: { setup: "true" },
          agent: { kind: "command", command: "tool-from-setup || true" },
        },
      ],
    });
    const result = await run(["run", "--dry-run"]);
    expect(result.exitCode, result.all).toBe(0);
  });
});

describe("preflight of the port registry", () => {
  it("stops a run whose registry cannot be made (~/.conductor is a file); the printed mv, pasted, fixes it", async () => {
    repo = await repoWithConfig({
      agent: { kind: "command", command: "true" },
      tasks: tasks("one"),
    });
    const { home } = repo;
    const dotConductor = path.join(home, ".conductor");
    await writeFile(dotConductor, "not conductor's\n");

    const result = await run(["run"]);

    expect(result.exitCode, result.all).toBe(2);
    expect(result.stderr).toContain(`port registry: ${dotConductor} cannot be made`);
    await expectNothingCreated(path.join(home, "workspaces"));
    const mv = result.stderr.match(/move it aside: (mv \S+ \S+)/)?.[1];
    expect(mv, result.stderr).toBe(`mv ${dotConductor} ${dotConductor}.moved`);
    execFileSync("sh", ["-c", mv as string]);
    const again = await run(["run"]);
    expect(again.exitCode, again.all).toBe(0);
    expect(readFileSync(`${dotConductor}.moved`, "utf8")).toBe("not conductor's\n");
  });

  it("stops a run when a folder stands where the registry file goes", async () => {
    repo = await repoWithConfig({
      agent: { kind: "command", command: "true" },
      tasks: tasks("one"),
    });
    await mkdir(path.join(repo.home, ".conductor", "ports.json"), { recursive: true });
    const result = await run(["run"]);
    expect(result.exitCode, result.all).toBe(2);
    expect(result.stderr).toContain("ports.json is a directory, not conductor's port registry");
    await expectNothingCreated(path.join(repo.home, "workspaces"));
  });
});

describe("preflight of the run state", () => {
  it("stops a run when a file named .conductor stands where its runs go: exit 2, not an internal error", async () => {
    repo = await repoWithConfig({
      agent: { kind: "command", command: "true" },
      tasks: tasks("one"),
    });
    const dotConductor = path.join(repo.root, ".conductor");
    await writeFile(dotConductor, "a file\n");
    const result = await run(["run"]);
    expect(result.exitCode, result.all).toBe(2);
    expect(result.stderr).toContain(
      `run state: ${path.join(dotConductor, "runs")} cannot be made: ${dotConductor} is a file: move it aside`,
    );
    expect(result.stderr).not.toContain("internal error");
    expect((await repo.git("worktree", "list", "--porcelain")).match(/^worktree /gm)).toHaveLength(
      1,
    );
    expect((await repo.git("branch", "--format=%(refname:short)")).split("\n")).toEqual(["main"]);
  });
});

describe("preflight of the seed cache", () => {
  it("stops a seeding run whose cache folder cannot be made, and doctor and cache list name it", async () => {
    const outside = await realTemp("conductor-cache-file-");
    await writeFile(path.join(outside, "notes.txt"), "a file\n");
    const cacheDir = path.join(outside, "notes.txt", "cache");
    repo = await repoWithConfig(
      {
        workspaces: { seed: ["node_modules"] },
        scripts: { setup: "mkdir -p node_modules" },
        agent: { kind: "command", command: "true" },
        tasks: tasks("one", "two"),
      },
      { "package-lock.json": "{}\n", ".gitignore": "node_modules/\n" },
    );
    const env = { CONDUCTOR_CACHE_DIR: cacheDir };

    const result = await run(["run"], env);
    const doctor = await run(["doctor"], env);
    const listed = await run(["cache", "list"], env);
    await rm(outside, { recursive: true, force: true });

    expect(result.exitCode, result.all).toBe(2);
    expect(result.stderr).toContain(
      `seed cache: ${cacheDir} cannot be made: ${path.join(outside, "notes.txt")} is a file: set CONDUCTOR_CACHE_DIR to a folder`,
    );
    await expectNothingCreated(path.join((repo as TestRepo).home, "workspaces"));
    expect(doctor.exitCode, doctor.all).toBe(1);
    expect(doctor.stdout).toMatch(/^seed cache +fail /m);
    expect(listed.exitCode, listed.all).toBe(2);
    expect(listed.stderr).toContain(`cannot use the seed cache ${cacheDir}`);
    expect(listed.stderr).not.toContain("internal error");
  });
});

async function realTemp(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Runs conductor as `nobody` when the tests run as root (who may write anywhere). */
async function runAsUser(args: string[], env: Record<string, string>): Promise<CliResult> {
  if (process.getuid?.() !== 0) return run(args, env);
  const { root, home } = repo as TestRepo;
  // git refuses a repository owned by someone else unless its user says it is safe.
  await writeFile(path.join(home, ".gitconfig"), "[safe]\n\tdirectory = *\n");
  // The test repository lives in a private temp folder: let the other user in, read-only.
  execFileSync("chmod", ["-R", "a+rX", path.dirname(root)]);
  const { execa } = await import("execa");
  const { gitEnv } = await import("../helpers/git-repo.js");
  const result = await execa("node", [CLI, ...args], {
    cwd: root,
    reject: false,
    all: true,
    uid: 65534,
    gid: 65534,
    env: {
      ...gitEnv(home),
      ...NO_CREDENTIALS,
      ...env,
      CI: "1",
      NO_COLOR: "1",
    },
  });
  return {
    exitCode: result.exitCode ?? -1,
    stdout: String(result.stdout),
    stderr: String(result.stderr),
    all: String(result.all),
  };
}

/** Whether a user other than the owner can read `file`: every folder above it searchable by all. */
function otherUsersReach(file: string): boolean {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false;
    if (path.dirname(dir) === dir) return (statSync(file).mode & 0o004) !== 0;
  }
}
