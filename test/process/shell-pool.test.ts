// Conductor's pool of long-lived shells: scripts run as with `sh -c script sh args…`, arguments
// never become code, scripts at the same time get a shell each, and no shell outlives conductor.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { appendFileSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildSync } from "esbuild";
import { describe, expect, it } from "vitest";
import { endIdleShells, runInShell } from "../../src/process/shell-pool.js";
import { tempDirForTest } from "../helpers/temp-homes.js";

const tmp = () => tempDirForTest("shell-pool-");

describe("runInShell", () => {
  it("runs in the folder, with the arguments as $1…, and returns exit code, stdout and stderr", async () => {
    const dir = tmp();
    const result = await runInShell(dir, 'pwd; printf "%s|" "$@"; echo oops >&2; exit 3', [
      "a b",
      "",
      "line\nbreak",
    ]);
    expect(result).toEqual({ exitCode: 3, stdout: `${dir}\na b||line\nbreak|`, stderr: "oops\n" });
  });

  it("never evaluates an argument or the folder name", async () => {
    const dir = path.join(tmp(), "it's $(touch pwned) `touch pwned2`");
    execFileSync("mkdir", ["-p", dir]);
    const evil = ["'; touch pwned3; '", "$(touch pwned4)", "\\'", "'\n'"];
    const result = await runInShell(dir, 'printf "%s\\n" "$@"; ls', evil);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(`${evil.join("\n")}\n`);
    expect(readdirSync(dir)).toEqual([]);
    expect(readdirSync(path.dirname(dir))).toEqual([path.basename(dir)]);
  });

  it("runs scripts that overlap in shells of their own, and reuses the shells after", async () => {
    const dir = tmp();
    const started = Date.now();
    const pids = await Promise.all([1, 2, 3].map(() => runInShell(dir, "sleep 0.3; echo $$", [])));
    expect(Date.now() - started).toBeLessThan(900);
    const shells = new Set(pids.map((result) => result.stdout.trim()));
    expect(shells.size).toBe(3);
    const again = await runInShell(dir, "echo $$", []);
    expect(shells.has(again.stdout.trim())).toBe(true);
  });

  it("ends its idle shells when asked, and starts a new one for the next script", async () => {
    const dir = tmp();
    const pids = await Promise.all([1, 2].map(() => runInShell(dir, "sleep 0.1; echo $$", [])));
    const shells = pids.map((result) => Number(result.stdout.trim()));
    endIdleShells();
    const deadline = Date.now() + 5000;
    const alive = () => shells.filter((pid) => spawnSync("kill", ["-0", String(pid)]).status === 0);
    while (alive().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(alive()).toEqual([]);
    const next = await runInShell(dir, "echo $$", []);
    expect(next.exitCode).toBe(0);
    expect(shells).not.toContain(Number(next.stdout.trim()));
  });

  it("gives a script the environment asked for, and a new shell when it changes", async () => {
    const dir = tmp();
    const one = await runInShell(dir, 'echo "$POOL_VALUE"', [], {
      ...process.env,
      POOL_VALUE: "1",
    });
    const two = await runInShell(dir, 'echo "$POOL_VALUE"', [], {
      ...process.env,
      POOL_VALUE: "2",
    });
    expect([one.stdout, two.stdout]).toEqual(["1\n", "2\n"]);
  });

  it("rejects a script whose shell was killed, and runs the next one in a new shell", async () => {
    const dir = tmp();
    await expect(runInShell(dir, "kill -9 $$; sleep 5", [])).rejects.toThrow(
      /the shell running the script ended \(SIGKILL\)/,
    );
    expect((await runInShell(dir, "echo fine", [])).stdout).toBe("fine\n");
  });

  it("ends its shells with the process that started them, waiting for them at a natural exit, and leaves no files", async () => {
    const dir = tmp();
    const home = path.join(dir, "home");
    // A folder of a conductor that was killed (its pid is gone), and one of a live process.
    const shellsDir = path.join(home, ".conductor", "tmp");
    const dead = spawnSync("true").pid as number;
    mkdirSync(path.join(shellsDir, `shells-${dead}-abandoned`), { recursive: true });
    mkdirSync(path.join(shellsDir, `shells-${process.pid}-alive`));
    const out = await runProgram(dir, home, "pids");
    const shells = out.trim().split(" ").map(Number);
    expect(shells).toHaveLength(2);
    // Reaped before it exited (a zombie would still answer signal 0 until its parent reaps it).
    for (const pid of shells) expect(() => process.kill(pid, 0)).toThrow();
    // Its own folder went with it; the killed conductor's was cleared; the live one's was kept.
    expect(readdirSync(shellsDir)).toEqual([`shells-${process.pid}-alive`]);
  });

  it.skipIf(process.platform !== "linux")(
    "keeps its request file under ~/.conductor/tmp, and the outputs in files without a name",
    async () => {
      const dir = tmp();
      const home = path.join(dir, "home");
      const out = await runProgram(dir, home, "files");
      const [folder = "", request = "", stdout = "", stderr = ""] = out.trim().split("\n");
      expect(folder.startsWith(path.join(home, ".conductor", "tmp", "shells-"))).toBe(true);
      // While the script ran, the folder held its shell's request and nothing else.
      expect(request).toMatch(/^[0-9a-f]{18}\.sh$/);
      // What it printed went to files that were removed as soon as they were made.
      expect(stdout).toBe(`${path.join(folder, request.replace(/\.sh$/, ".out"))} (deleted)`);
      expect(stderr).toBe(`${path.join(folder, request.replace(/\.sh$/, ".err"))} (deleted)`);
    },
  );

  it("never carries what one script printed into the next script of the same shell", async () => {
    const dir = tmp();
    const long = await runInShell(
      dir,
      'printf "%05000d" 0; printf "%07000d" 0 >&2; echo " $$"',
      [],
    );
    const shell = long.stdout.split(" ")[1] ?? "";
    expect(long).toEqual({
      exitCode: 0,
      stdout: `${"0".repeat(5000)} ${shell}`,
      stderr: "0".repeat(7000),
    });
    // The same shell (its pid), and only what this script printed.
    const short = await runInShell(dir, 'printf x; printf y >&2; echo " $$"', []);
    expect(short).toEqual({ exitCode: 0, stdout: `x ${shell}`, stderr: "y" });
  });

  it("never runs what is left of a longer request before, short or very long", async () => {
    const dir = tmp();
    for (const size of [5000, 70_000]) {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the length of $1, for the shell
      const long = await runInShell(dir, 'echo "${#1}"; echo " $$"; echo three', [
        "x".repeat(size),
      ]);
      const shell = long.stdout.split("\n")[1] ?? "";
      expect(long).toEqual({ exitCode: 0, stdout: `${size}\n${shell}\nthree\n`, stderr: "" });
      const short = await runInShell(dir, 'echo " $$"', []);
      expect(short).toEqual({ exitCode: 0, stdout: `${shell}\n`, stderr: "" });
    }
  });

  it("never reuses a shell whose request file someone else wrote to", async () => {
    const dir = tmp();
    const before = await runInShell(dir, "echo $$", []);
    for (const file of requestFiles()) appendFileSync(file, "\ntouch pwned\n");
    const after = await runInShell(dir, "echo $$", []);
    expect(after.exitCode).toBe(0);
    expect(after.stdout).not.toBe(before.stdout); // a new shell
    expect(readdirSync(dir)).toEqual([]);
  });

  it.skipIf(process.platform !== "linux")(
    "reads what a script printed after something cut its stderr (a hook reopening /proc/self/fd/2)",
    async () => {
      const dir = tmp();
      const first = await runInShell(dir, 'printf "%0100d" 0 >&2; echo $$', []);
      const cut = await runInShell(
        dir,
        "printf x >&2; : > /proc/self/fd/2; printf y >&2; echo $$",
        [],
      );
      expect(cut).toEqual({ exitCode: 0, stdout: first.stdout, stderr: "y" });
    },
  );

  it("runs each script in a shell of its own where ~/.conductor/tmp cannot be made, never in the temporary folder", async () => {
    const dir = tmp();
    const home = path.join(dir, "home-is-a-file");
    writeFileSync(home, "");
    const temporary = path.join(dir, "tmp");
    mkdirSync(temporary);
    const out = await runProgram(dir, home, "direct", { TMPDIR: temporary });
    const [first, second] = out.trim().split("\n");
    // `$1`, the shell's pid, and nothing in the temporary folder while the script ran.
    expect(first).toMatch(/^a b\|\d+\|$/);
    expect(second).toMatch(/^a b\|\d+\|$/);
    expect(first).not.toBe(second); // a shell each
    expect(readdirSync(temporary)).toEqual([]);
  });

  it("goes on in a new folder when its folder was removed (a cleaner of old files)", async () => {
    const dir = tmp();
    const home = path.join(dir, "home");
    expect(await runProgram(dir, home, "vanish")).toBe("fine\n");
    // Both folders went with it, and with them ~/.conductor.
    expect(readdirSync(home)).toEqual([]);
  });
});

/** The request files of this process's shells (under the real HOME, as the tests above run). */
function requestFiles(): string[] {
  const parent = path.join(os.homedir(), ".conductor", "tmp");
  return readdirSync(parent)
    .filter((name) => name.startsWith(`shells-${process.pid}-`))
    .flatMap((name) =>
      readdirSync(path.join(parent, name))
        .filter((file) => file.endsWith(".sh"))
        .map((file) => path.join(parent, name, file)),
    );
}

type Mode = "pids" | "files" | "vanish" | "direct";

/**
 * Bundles the pool into `dir` with a program that prints, for `pids`, the pids of the two shells
 * that ran two scripts at once; for `files`, the pool's folder, what is in it while a script runs
 * and where that script's stdout and stderr go; for `vanish`, what a script printed after the
 * script before it removed the pool's folder; for `direct`, `$1`, the shell's pid and what is in
 * $TMPDIR, for two scripts in a row.
 */
function poolProgram(dir: string, mode: Mode): string {
  buildSync({
    entryPoints: [path.resolve("src/process/shell-pool.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    outfile: path.join(dir, "pool.mjs"),
    logLevel: "silent",
  });
  const bodies = {
    pids: `const results = await Promise.all([1, 2].map(() => runInShell(".", "sleep 0.2; echo $$", [])));
         console.log(results.map((r) => r.stdout.trim()).join(" "));`,
    files: `const listed = await runInShell(".", 'for d in "$HOME"/.conductor/tmp/shells-*; do echo "$d"; ls -A "$d"; done; readlink /proc/self/fd/1 /proc/self/fd/2', []);
         process.stdout.write(listed.stdout);`,
    direct: `for (let i = 0; i < 2; i++) {
           const r = await runInShell(".", 'printf "%s|%s|%s\\n" "$1" "$$" "$(ls -A "$TMPDIR")"', ["a b"]);
           process.stdout.write(r.stdout);
         }`,
    vanish: `await runInShell(".", 'rm -rf "$HOME"/.conductor/tmp/shells-*', []);
         process.stdout.write((await runInShell(".", "echo fine", [])).stdout);`,
  };
  const program = path.join(dir, "program.mjs");
  writeFileSync(program, `import { runInShell } from "./pool.mjs";\n${bodies[mode]}\n`);
  return program;
}

/** Runs {@link poolProgram} with `home` as HOME; resolves with its stdout once it exited 0. */
async function runProgram(dir: string, home: string, mode: Mode, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [poolProgram(dir, mode)], {
    cwd: dir,
    env: { ...process.env, HOME: home, ...env },
  });
  let out = "";
  child.stdout.on("data", (chunk) => {
    out += chunk;
  });
  expect(await new Promise((resolve) => child.once("exit", resolve))).toBe(0);
  return out;
}
