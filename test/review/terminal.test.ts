import { readFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { shellCommand } from "../../src/hint/shell-quote.js";
import { CLI } from "../helpers/cli.js";
import { gitEnv } from "../helpers/git-repo.js";
import { processAlive, type ReviewRepo, readOr, reviewRepo, runAll, waitFor } from "./rig.js";

let repo: ReviewRepo | undefined;

afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

/** Variables that tell one process from another, not what a workspace's environment is. */
const PER_PROCESS = /^(CONDUCTOR_PROCESS_TAG|CONDUCTOR_TERMINAL_TAG|CONDUCTOR_TERMINAL)=/;

/** The setup script records the environment a workspace's scripts get. */
const RECORD_ENV =
  'env | grep -E "^(CONDUCTOR_|GREETING=)" | sort > "$HOME/$CONDUCTOR_WORKSPACE_NAME.setup-env"';

async function repoWithRun(): Promise<ReviewRepo> {
  const current = await reviewRepo([{ id: "web" }, { id: "api" }], {
    env: { GREETING: "hello world" },
    scripts: { setup: RECORD_ENV },
  });
  const result = await runAll(current);
  expect(result.exitCode, result.all).toBe(0);
  return current;
}

/**
 * Runs `conductor <args>` on a real pseudo-terminal (util-linux `script`), as a person would in
 * their terminal: `type` writes keystrokes to it. Resolves with script's exit code (the
 * command's, thanks to -e) and everything the terminal showed.
 */
function onTerminal(current: ReviewRepo, args: readonly string[], env: Record<string, string>) {
  const child = execa("script", ["-qefc", shellCommand(["node", CLI, ...args]), "/dev/null"], {
    cwd: current.root,
    reject: false,
    stdin: "pipe",
    env: { ...gitEnv(current.home), CI: "1", NO_COLOR: "1", ...env },
  });
  let screen = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    screen += chunk.toString();
  });
  return {
    child,
    screen: () => screen,
    type: (text: string) => child.stdin?.write(text),
    async ended(): Promise<{ exitCode: number; screen: string }> {
      const result = await child;
      return { exitCode: result.exitCode ?? -1, screen };
    },
  };
}

function environmentLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => /^(CONDUCTOR_|GREETING=)/.test(line) && !PER_PROCESS.test(line))
    .sort();
}

describe("conductor exec", () => {
  it("runs a command in the worktree with exactly the scripts' environment and passes its exit code on", async () => {
    repo = await repoWithRun();
    const terminal = onTerminal(
      repo,
      [
        "exec",
        "web",
        "--",
        "sh",
        "-c",
        'echo "cwd=$PWD"; env; test -t 0 && echo stdin-is-a-tty; exit 7',
      ],
      {},
    );
    const { exitCode, screen } = await terminal.ended();
    expect(exitCode, screen).toBe(7);
    expect(screen).toContain(`cwd=${repo.worktree("web")}`);
    expect(screen).toContain("stdin-is-a-tty");
    const setupEnv = readFileSync(path.join(repo.home, "web.setup-env"), "utf8");
    expect(environmentLines(screen)).toEqual(environmentLines(setupEnv));
    expect(environmentLines(setupEnv)).toContain("GREETING=hello world");
    expect(environmentLines(setupEnv).some((line) => line.startsWith("CONDUCTOR_PORT="))).toBe(
      true,
    );
  });

  it("sends Ctrl-C to the command's process group and leaves nothing running", async () => {
    repo = await repoWithRun();
    const pidFile = path.join(repo.home, "background.pid");
    const terminal = onTerminal(
      repo,
      [
        "exec",
        "web",
        "--",
        "sh",
        "-c",
        // The job ignores the hang-up too, so that only conductor can end it when the pty closes.
        `(trap "" INT HUP; exec sleep 300) & echo $! > ${shellCommand([pidFile])}; echo ready; sleep 300; echo not-interrupted`,
      ],
      {},
    );
    await waitFor("the command to start", () => terminal.screen().includes("ready"));
    const background = Number(readOr(pidFile));
    expect(processAlive(background)).toBe(true);
    terminal.type("\u0003");
    const { exitCode, screen } = await terminal.ended();
    expect(exitCode, screen).toBe(130);
    expect(screen).not.toContain("not-interrupted");
    expect(processAlive(background)).toBe(false);
  });

  it("ends what the command left running when it exits by itself", async () => {
    repo = await repoWithRun();
    const pidFile = path.join(repo.home, "daemon.pid");
    const terminal = onTerminal(
      repo,
      [
        "exec",
        "api",
        "--",
        "sh",
        "-c",
        `setsid sleep 300 < /dev/null > /dev/null 2>&1 & echo $! > ${shellCommand([pidFile])}; exit 0`,
      ],
      {},
    );
    const { exitCode, screen } = await terminal.ended();
    expect(exitCode, screen).toBe(0);
    const daemon = Number(readOr(pidFile));
    expect(daemon).toBeGreaterThan(0);
    expect(processAlive(daemon)).toBe(false);
  });

  it("exits 127 for a command that does not exist, and 2 without a command", async () => {
    repo = await repoWithRun();
    const missing = await repo.cli(["exec", "web", "--", "no-such-program-here"]);
    expect(missing.exitCode, missing.all).toBe(127);
    expect(missing.stderr).toContain("no-such-program-here could not start");
    const none = await repo.cli(["exec", "web"]);
    expect(none.exitCode, none.all).toBe(2);
    expect(none.stderr).toContain("conductor exec web -- npm test");
  });
});

describe("conductor shell", () => {
  for (const shell of ["/bin/bash", "/bin/sh"]) {
    it(`opens ${shell} in the worktree with the scripts' environment and the workspace in its prompt`, async () => {
      const current = await repoWithRun();
      repo = current;
      const pidFile = path.join(current.home, "job.pid");
      const terminal = onTerminal(current, ["shell", "web"], { SHELL: shell });
      await waitFor("the prompt", () => terminal.screen().includes("(conductor:web)"));
      terminal.type(`sleep 300 & echo $! > ${shellCommand([pidFile])}\n`);
      terminal.type('echo "cwd=$PWD"; env | sort; exit 5\n');
      const { exitCode, screen } = await terminal.ended();
      expect(exitCode, screen).toBe(5);
      expect(screen).toContain(`cwd=${current.worktree("web")}`);
      const setupEnv = readFileSync(path.join(current.home, "web.setup-env"), "utf8");
      expect(environmentLines(screen)).toEqual(environmentLines(setupEnv));
      const job = Number(readOr(pidFile));
      expect(job).toBeGreaterThan(0);
      expect(processAlive(job)).toBe(false);
    });
  }
});

describe("conductor logs on a terminal", () => {
  it("shows the agent's colours but not the escape sequences that act on the terminal; piped, the log is as written", async () => {
    // The agent sets the window title, writes the clipboard (OSC 52) and clears the screen
    // around a coloured word.
    const hostile =
      "printf 'before \\033]0;pwned\\007\\033]52;c;cm0gLXJm\\007\\033[2J\\033[31mred\\033[0m after\\n'";
    repo = await reviewRepo([{ id: "loud", agent: hostile }]);
    const result = await runAll(repo);
    expect(result.exitCode, result.all).toBe(0);

    const terminal = onTerminal(repo, ["logs", "loud"], {});
    const { exitCode, screen } = await terminal.ended();
    expect(exitCode, screen).toBe(0);
    expect(screen).toContain("before \u001b[31mred\u001b[0m after");
    expect(screen).not.toContain("\u001b]");
    expect(screen).not.toContain("\u001b[2J");
    expect(screen).not.toContain("pwned");

    const piped = await repo.cli(["logs", "loud"]);
    expect(piped.exitCode, piped.all).toBe(0);
    expect(piped.stdout).toContain("\u001b]52;c;cm0gLXJm\u0007");
  });
});
