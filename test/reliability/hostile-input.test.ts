// Hostile input: ids and paths that try to leave the repository, symlinks out of it, shell
// metacharacters, newlines, unicode and NULs, huge prompts, prompt files that are directories or
// fifos. Each is refused or handled safely, and nothing is written outside the repository and
// the workspaces folder.
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  codexProviderConfig,
  type ModelServer,
  prepareCodexHome,
  SCRIPTED_MODEL,
  startModelServer,
} from "../../src/model-server/server.js";
import { type CliResult, conductor } from "../helpers/cli.js";
import type { TestRepo } from "../helpers/git-repo.js";
import { latestSummary, processesOfRun, repoWithConfig } from "../helpers/run-repo.js";
import { hasStackTrace, killLeftovers, newestRunId, treeSnapshot } from "./rig.js";

const SECRET = "sentinel-secret-7d1c";

/** A repository with a sentinel folder beside it that nothing may read into a workspace or write. */
interface HostileRepo extends TestRepo {
  sentinel: string;
  /** Everything outside the repository and the workspaces folder that must stay as it was. */
  outside(): Record<string, Record<string, string>>;
  run(args?: readonly string[]): Promise<CliResult>;
}

async function hostileRepo(
  config: Record<string, unknown>,
  files: Record<string, string> = {},
  prepare: (root: string, sentinel: string) => void = () => {},
): Promise<HostileRepo> {
  const repo = await repoWithConfig(
    { agent: { kind: "command", command: "echo work > work.txt" }, ...config },
    files,
  );
  const sentinel = path.join(path.dirname(repo.root), "sentinel");
  mkdirSync(sentinel, { recursive: true });
  writeFileSync(path.join(sentinel, "secret.txt"), `${SECRET}\n`);
  prepare(repo.root, sentinel);
  current = repo;
  return {
    ...repo,
    sentinel,
    outside: () => ({
      sentinel: treeSnapshot(sentinel),
      // The home holds the workspaces folder and conductor's port registry; the rest is the user's.
      home: treeSnapshot(repo.home, ["workspaces", ".conductor"]),
    }),
    run: (args = []) =>
      conductor(["run", "--output", "plain", ...args], { cwd: repo.root, home: repo.home }),
  };
}

let current: TestRepo | undefined;
afterEach(async () => {
  if (current && existsSync(path.join(current.root, ".conductor", "runs"))) {
    killLeftovers(newestRunId(current.root));
  }
  await current?.remove();
  current = undefined;
});

/** A refusal before anything is made: exit 2, the problem located, no run, branch or worktree. */
async function expectRefusedCleanly(
  repo: HostileRepo,
  result: CliResult,
  where: RegExp,
): Promise<void> {
  expect(result.exitCode, result.all).toBe(2);
  expect(result.stderr).toMatch(where);
  expect(hasStackTrace(result.all), result.all).toBe(false);
  expect(existsSync(path.join(repo.root, ".conductor", "runs"))).toBe(false);
  expect(existsSync(path.join(repo.home, "workspaces"))).toBe(false);
  expect((await repo.git("branch", "--list", "conductor/*")).trim()).toBe("");
}

describe("task ids that try to leave, inject or confuse", () => {
  it.each([
    "../escape",
    "a/../../b",
    "/absolute",
    "~root",
    "$(touch PWNED)",
    "`touch PWNED`",
    "a;touch PWNED",
    "a&&b",
    "a|b",
    "a\nb",
    "a b",
    "-rf",
    ".hidden",
    "a..b",
    "déjà",
    "",
  ])("%j is refused by conductor run with exit 2, and nothing is created", async (id) => {
    const repo = await hostileRepo({ tasks: [{ id, prompt: "p" }] });
    const before = repo.outside();
    const result = await repo.run();
    await expectRefusedCleanly(repo, result, /tasks\[0\]\.id/);
    expect(existsSync(path.join(repo.root, "PWNED"))).toBe(false);
    expect(repo.outside()).toEqual(before);
  });
});

describe("paths in the config that leave the repository", () => {
  it.each([
    ["copy", { workspaces: { copy: ["../sentinel/secret.txt"] } }, /workspaces\.copy\[0\]/],
    ["copy", { workspaces: { copy: ["/etc/hostname"] } }, /workspaces\.copy\[0\]/],
    ["copy", { workspaces: { copy: ["~/.ssh/id_rsa"] } }, /workspaces\.copy\[0\]/],
    [
      "copy",
      { workspaces: { copy: [{ path: "a/../../sentinel/*", mode: "symlink" }] } },
      /copy\[0\]\.path/,
    ],
    ["copy", { workspaces: { copy: [".git/config"] } }, /workspaces\.copy\[0\]/],
    [
      "context",
      { workspaces: { context: ["../sentinel/secret.txt"] } },
      /workspaces\.context\[0\]/,
    ],
    ["prompt_file", { tasks: [{ id: "a", prompt_file: "../sentinel/secret.txt" }] }, /prompt_file/],
    ["prompt_file", { tasks: [{ id: "a", prompt_file: "/etc/hostname" }] }, /prompt_file/],
    ["prompt_file", { tasks: [{ id: "a", prompt_file: "~/notes.md" }] }, /prompt_file/],
  ] as const)(
    "%s %j is refused with exit 2 before anything is created",
    async (_kind, config, where) => {
      const repo = await hostileRepo({ tasks: [{ id: "a", prompt: "p" }], ...config });
      const before = repo.outside();
      const result = await repo.run();
      await expectRefusedCleanly(repo, result, where);
      expect(result.all).not.toContain(SECRET);
      expect(repo.outside()).toEqual(before);
    },
  );
});

describe("a workspaces.dir that would corrupt the repository or cover the user's files", () => {
  it.each([".git/refs/heads", ".git", ".", "/", "..", "trees"])(
    "%j is refused by validate and run with exit 2 at workspaces.dir; the repository stays sound",
    async (dir) => {
      const repo = await hostileRepo({ workspaces: { dir }, tasks: [{ id: "a", prompt: "p" }] });
      const before = repo.outside();
      const validate = await conductor(["validate"], { cwd: repo.root, home: repo.home });
      expect(validate.exitCode, validate.all).toBe(2);
      expect(validate.stderr).toMatch(/workspaces\.dir: .*(filesystem root|repository)/);
      const result = await repo.run();
      await expectRefusedCleanly(repo, result, /conductor\.yaml:\d+:\d+: workspaces\.dir: /);
      expect(hasStackTrace(validate.all)).toBe(false);
      await repo.git("fsck", "--no-progress");
      const worktrees = (await repo.git("worktree", "list", "--porcelain")).match(/^worktree /gm);
      expect(worktrees?.length).toBe(1);
      expect((await repo.git("status", "--porcelain")).trim()).toBe("");
      expect(repo.outside()).toEqual(before);
    },
  );
});

describe("symlinks that point out of the repository", () => {
  it.each(["copy", "context"] as const)(
    "a %s file that links outside is refused with exit 2 before anything is made; nothing of it is read",
    async (kind) => {
      const repo = await hostileRepo(
        {
          workspaces:
            kind === "copy"
              ? { copy: ["leak.env", "linked/**"] }
              : { context: ["leak.env", "linked/**"] },
          tasks: [{ id: "a", prompt: "p" }],
        },
        { ".gitignore": "leak.env\nlinked\n" },
        (root, sentinel) => {
          symlinkSync(path.join(sentinel, "secret.txt"), path.join(root, "leak.env"));
          symlinkSync(sentinel, path.join(root, "linked"));
        },
      );
      const before = repo.outside();
      const result = await repo.run();
      await expectRefusedCleanly(
        repo,
        result,
        new RegExp(`workspaces\\.${kind}\\[0\\]: "leak\\.env" is a link that points outside`),
      );
      expect(result.stderr).toMatch(
        new RegExp(`workspaces\\.${kind}\\[1\\]: "linked/\\*\\*" reaches linked, which is a link`),
      );
      expect(result.all).not.toContain(SECRET);
      expect(repo.outside()).toEqual(before);
    },
  );

  it("a copied file that links to a file inside the repository is copied like that file", async () => {
    const repo = await hostileRepo(
      {
        workspaces: { copy: [".env.local"] },
        agent: { kind: "command", command: "cat .env.local > seen.txt" },
        tasks: [{ id: "a", prompt: "p" }],
      },
      { ".gitignore": ".env.local\nconfig/dev.env\n", "config/dev.env": "MODE=dev\n" },
      (root) => symlinkSync("config/dev.env", path.join(root, ".env.local")),
    );
    const result = await repo.run();
    expect(result.exitCode, result.all).toBe(0);
    expect(await repo.git("show", "conductor/a:seen.txt")).toBe("MODE=dev");
    expect(await repo.git("ls-tree", "--name-only", "conductor/a")).not.toContain(".env.local");
  });

  it("a prompt_file that links outside is refused with exit 2 and its content is never shown", async () => {
    const repo = await hostileRepo(
      { tasks: [{ id: "a", prompt_file: "prompts/leak.md" }] },
      {},
      (root, sentinel) => {
        mkdirSync(path.join(root, "prompts"));
        symlinkSync(path.join(sentinel, "secret.txt"), path.join(root, "prompts", "leak.md"));
      },
    );
    const before = repo.outside();
    const result = await repo.run();
    await expectRefusedCleanly(
      repo,
      result,
      /prompt_file: "prompts\/leak\.md" is a link that points outside/,
    );
    expect(result.all).not.toContain(SECRET);
    expect(repo.outside()).toEqual(before);
  });
});

describe("a prompt_file that is not a file", () => {
  it.each(["directory", "fifo"] as const)(
    "(a %s) is refused with exit 2 at once, without opening it",
    async (kind) => {
      const repo = await hostileRepo({ tasks: [{ id: "a", prompt_file: "prompts/task.md" }] });
      const target = path.join(repo.root, "prompts", "task.md");
      mkdirSync(path.dirname(target), { recursive: true });
      if (kind === "directory") mkdirSync(target);
      else await execa("mkfifo", [target]);
      const started = Date.now();
      const result = await repo.run();
      // A fifo opened for reading would block until a writer comes; none ever does here.
      expect(Date.now() - started).toBeLessThan(20_000);
      await expectRefusedCleanly(repo, result, /prompts\/task\.md" is not a regular file/);
      const validate = await conductor(["validate"], { cwd: repo.root, home: repo.home });
      expect(validate.exitCode, validate.all).toBe(2);
    },
  );
});

describe("prompts and values with shell metacharacters, newlines, unicode and NULs", () => {
  const PROMPT = [
    "Fix the parser; then $(touch ../sentinel/PWNED-1) and `touch ../sentinel/PWNED-2`",
    "a | b && c || d > ../sentinel/PWNED-3 < /dev/null & wait; exit 1",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax the agent must receive as text
    'quotes \' " \\ \\n \\" $HOME ${HOME} $((1+1)) !! ~ * ? [a] # not a comment',
    "unicode: déjà vu, 日本語, emoji 😀🚀, RTL \u202Eevil\u202C, combining e\u0301, zero\u200Bwidth",
    "\ttabs\tand trailing spaces   ",
    "",
    "-- --help -rf",
  ].join("\n");

  it("reach the agent byte for byte through $CONDUCTOR_PROMPT and $CONDUCTOR_PROMPT_FILE and are never run", async () => {
    const repo = await hostileRepo({
      env: { HOSTILE: "$(touch ../sentinel/PWNED-4); `id`" },
      agent: {
        kind: "command",
        command:
          'printf "%s" "$CONDUCTOR_PROMPT" > from-env.txt; cp "$CONDUCTOR_PROMPT_FILE" from-file.txt; printf "%s" "$HOSTILE" > env.txt',
      },
      scripts: { check: "test -s from-file.txt" },
      tasks: [{ id: "hostile", prompt: PROMPT }],
    });
    const before = repo.outside();
    const result = await repo.run();
    expect(result.exitCode, result.all).toBe(0);
    const worktree = path.join(repo.home, "workspaces", "hostile");
    expect(readFileSync(path.join(worktree, "from-env.txt"), "utf8")).toBe(PROMPT);
    expect(readFileSync(path.join(worktree, "from-file.txt"), "utf8")).toBe(PROMPT);
    expect(readFileSync(path.join(worktree, "env.txt"), "utf8")).toBe(
      "$(touch ../sentinel/PWNED-4); `id`",
    );
    // The commit subject is the task and the prompt's first line (in lower case after the task
    // id), as text.
    const subject = await repo.git("log", "-1", "--format=%s", "conductor/hostile");
    expect(subject.startsWith("hostile: fix the parser; then $(touch ../sentinel/PWNED-1)")).toBe(
      true,
    );
    for (const marker of ["PWNED-1", "PWNED-2", "PWNED-3", "PWNED-4"]) {
      expect(existsSync(path.join(repo.sentinel, marker)), marker).toBe(false);
      expect(existsSync(path.join(path.dirname(repo.root), marker)), marker).toBe(false);
    }
    expect(repo.outside()).toEqual(before);
    const status = await conductor(["status"], { cwd: repo.root, home: repo.home });
    expect(status.exitCode, status.all).toBe(0);
  });

  it.each([
    [
      "an inline prompt",
      { tasks: [{ id: "a", prompt: "before\0after" }] },
      /tasks\[0\]\.prompt: contains a NUL/,
    ],
    [
      "an env value",
      { env: { X: "a\0b" }, tasks: [{ id: "a", prompt: "p" }] },
      /env\.X: contains a NUL/,
    ],
    [
      "a script",
      { scripts: { setup: "echo \0" }, tasks: [{ id: "a", prompt: "p" }] },
      /scripts\.setup: contains a NUL/,
    ],
  ] as const)(
    "a NUL character in %s is refused with exit 2 where it is written",
    async (_what, config, where) => {
      const repo = await hostileRepo(config);
      const result = await repo.run();
      await expectRefusedCleanly(repo, result, where);
    },
  );
});

describe("huge prompts", () => {
  /** Exactly `bytes` of multi-line text with unicode, ending in a marker so truncation shows. */
  function hugePrompt(bytes: number, marker: string): string {
    const line = "Refactor every module; keep tests green — ünïcödé 😀 and quotes ' \" $x.\n";
    const room = bytes - Buffer.byteLength(marker);
    const body = line.repeat(Math.floor(room / Buffer.byteLength(line)));
    const text = `${body}${"x".repeat(room - Buffer.byteLength(body))}${marker}`;
    expect(Buffer.byteLength(text)).toBe(bytes);
    return text;
  }

  it.each([
    ["a 1 MB prompt_file", 1024 * 1024, "file"],
    ["a 1 MB inline prompt", 1024 * 1024, "inline"],
    ["a prompt of just under 100 KiB", 100 * 1024 - 20, "inline"],
  ] as const)(
    "%s reaches the command agent whole through $CONDUCTOR_PROMPT_FILE ($CONDUCTOR_PROMPT only up to 100 KiB)",
    async (_label, size, kind) => {
      const prompt = hugePrompt(size, "[END OF PROMPT]");
      const repo = await hostileRepo(
        {
          agent: {
            kind: "command",
            command:
              // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion
              'cp "$CONDUCTOR_PROMPT_FILE" got.txt; if [ -n "${CONDUCTOR_PROMPT+set}" ]; then printf "%s" "$CONDUCTOR_PROMPT" > env.txt; fi',
          },
          tasks: [
            kind === "file" ? { id: "big", prompt_file: "prompts/big.md" } : { id: "big", prompt },
          ],
        },
        kind === "file" ? { "prompts/big.md": prompt } : {},
      );
      const result = await repo.run();
      expect(result.exitCode, result.all.slice(0, 4000)).toBe(0);
      const worktree = path.join(repo.home, "workspaces", "big");
      expect(readFileSync(path.join(worktree, "got.txt"), "utf8") === prompt).toBe(true);
      const inEnv = existsSync(path.join(worktree, "env.txt"));
      expect(inEnv).toBe(Buffer.byteLength(prompt) <= 100 * 1024);
      if (inEnv) expect(readFileSync(path.join(worktree, "env.txt"), "utf8") === prompt).toBe(true);
      const subject = await repo.git("log", "-1", "--format=%s", "conductor/big");
      expect(subject.length).toBeLessThanOrEqual(72);
    },
  );

  describe("with the real codex", () => {
    let server: ModelServer;
    let codexHome: string;
    beforeAll(async () => {
      server = await startModelServer({
        script: (request) =>
          request.step === 0
            ? { kind: "exec", cmd: `printf '%s' "${request.prompt.length}" > seen.txt` }
            : { kind: "message", text: "Read it all." },
      });
      codexHome = await prepareCodexHome();
    });
    afterAll(async () => {
      await server?.close();
      await rm(codexHome, { recursive: true, force: true });
    });

    it("a 1 MB prompt reaches codex whole (it goes through stdin, over the argument limit)", async () => {
      const prompt = hugePrompt(1024 * 1024, "[END OF PROMPT]");
      const repo = await hostileRepo(
        {
          env: { CODEX_HOME: codexHome },
          agent: {
            kind: "codex",
            model: SCRIPTED_MODEL,
            timeout: "3m",
            config: codexProviderConfig(server.url),
          },
          tasks: [{ id: "big", prompt_file: "prompts/big.md" }],
        },
        { "prompts/big.md": prompt },
      );
      const result = await repo.run();
      expect(result.exitCode, result.all.slice(0, 4000)).toBe(0);
      const seen = server.requests.find((request) => request.prompt.includes("[END OF PROMPT]"));
      expect(seen, `${server.requests.length} requests`).toBeDefined();
      expect(seen?.prompt.trimEnd() === prompt.trimEnd()).toBe(true);
      expect(processesOfRun(latestSummary(repo.root).runId)).toEqual([]);
    });
  });
});
