// Conductor's pool of long-lived shells: scripts run as with `sh -c script sh args…`, arguments
// never become code, scripts at the same time get a shell each, and no shell outlives conductor.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildSync } from "esbuild";
import { describe, expect, it } from "vitest";
import { runInShell } from "../../src/process/shell-pool.js";

const tmp = () => realpathSync(mkdtempSync(path.join(os.tmpdir(), "shell-pool-")));

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
    const child = spawn(process.execPath, [poolProgram(dir, "pids")], {
      cwd: dir,
      env: { ...process.env, HOME: home },
    });
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
    });
    const code = await new Promise((resolve) => child.once("exit", resolve));
    expect(code).toBe(0);
    const shells = out.trim().split(" ").map(Number);
    expect(shells).toHaveLength(2);
    // Reaped before it exited (a zombie would still answer signal 0 until its parent reaps it).
    for (const pid of shells) expect(() => process.kill(pid, 0)).toThrow();
    // Its own folder went with it; the killed conductor's was cleared; the live one's was kept.
    expect(readdirSync(shellsDir)).toEqual([`shells-${process.pid}-alive`]);
  });

  it("keeps its files under ~/.conductor/tmp, out of the system's temporary folder", async () => {
    const dir = tmp();
    const home = path.join(dir, "home");
    const program = poolProgram(dir, "files");
    const child = spawn(process.execPath, [program], {
      cwd: dir,
      env: { ...process.env, HOME: home },
    });
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
    });
    expect(await new Promise((resolve) => child.once("exit", resolve))).toBe(0);
    const [folder = "", ...files] = out.trim().split("\n");
    expect(folder.startsWith(path.join(home, ".conductor", "tmp", "shells-"))).toBe(true);
    // The request and its outputs, under random names, while the script ran.
    expect(files.map((file) => file.replace(/^[0-9a-f]{18}\./, "X."))).toEqual([
      "X.err",
      "X.out",
      "X.sh",
    ]);
  });
});

/**
 * Bundles the pool into `dir` with a program that prints, for `pids`, the pids of the two shells
 * that ran two scripts at once; for `files`, the pool's folder (the loop's `$base` names a
 * request's files) and what is in it while a script runs.
 */
function poolProgram(dir: string, mode: "pids" | "files"): string {
  buildSync({
    entryPoints: [path.resolve("src/process/shell-pool.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    outfile: path.join(dir, "pool.mjs"),
    logLevel: "silent",
  });
  const body =
    mode === "pids"
      ? `const results = await Promise.all([1, 2].map(() => runInShell(".", "sleep 0.2; echo $$", [])));
         console.log(results.map((r) => r.stdout.trim()).join(" "));`
      : `const folder = (await runInShell(".", 'dirname "$base"', [])).stdout.trim();
         const listed = await runInShell(".", 'ls "$1"', [folder]);
         console.log(folder + "\\n" + listed.stdout.trim());`;
  const program = path.join(dir, "program.mjs");
  writeFileSync(program, `import { runInShell } from "./pool.mjs";\n${body}\n`);
  return program;
}
