// The reaper pool (reaper-pool.ts): long-lived reapers start the programs of steps one at a time,
// hand each program only its own output and input, are replaced when a program kills or stops
// one, and end with the process that started them.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { buildSync } from "esbuild";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { findOnPath } from "../../src/process/find-on-path.js";
import type { Launched } from "../../src/process/launched.js";
import { privateFolder } from "../../src/process/private-folder.js";
import { prestartReapers, reaperCount, startReaped } from "../../src/process/reaper-pool.js";
import { type ProcessOptions, runProcess } from "../../src/process/run.js";
import { isRunning } from "../helpers/running.js";
import { shellStep } from "../helpers/shell-step.js";

const reaping = process.platform === "linux" && findOnPath("perl") !== undefined;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "conductor-reaper-pool-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function options(command: string, overrides: Partial<ProcessOptions> = {}): ProcessOptions {
  return shellStep(dir, command, { graceMs: 300, ...overrides });
}

const read = async (name: string) => (await readFile(path.join(dir, name), "utf8")).trim();

/** Runs `command`, which writes its parent's pid (its reaper's) to $OUT/<name>; returns that pid. */
async function reaperOf(name: string, command = "true"): Promise<number> {
  const ended = await runProcess(options(`echo $PPID > "$OUT/${name}"; ${command}`));
  expect(ended).toEqual({ reason: "exited", exitCode: 0 });
  return Number(await read(name));
}

describe.runIf(reaping)("the reaper pool", () => {
  it("starts programs one after another from one reaper, and programs at once from reapers of their own", async () => {
    // One step right after the other, as a workspace's setup, agent and check run: the reaper is
    // free again by the time the first step's runProcess returns.
    const steps = ["a", "b", "c"];
    for (const name of steps) {
      expect(await runProcess(options(`echo $PPID > "$OUT/${name}"`))).toEqual({
        reason: "exited",
        exitCode: 0,
      });
    }
    const parents = await Promise.all(steps.map(async (name) => Number(await read(name))));
    const first = parents[0] as number;
    expect(parents).toEqual([first, first, first]);
    expect((await readFile(`/proc/${first}/comm`, "utf8")).trim()).toBe("perl");
    const together = await Promise.all([reaperOf("d", "sleep 0.3"), reaperOf("e", "sleep 0.3")]);
    expect(new Set(together).size).toBe(2);
    expect(together).toContain(first);
  });

  it("starts a program named by a path relative to its own folder under a reaper too", async () => {
    // exec looks for ./tool in the step's folder, not in conductor's.
    writeFileSync(path.join(dir, "tool"), '#!/bin/sh\ncat /proc/$PPID/comm > "$1"\n', {
      mode: 0o755,
    });
    const ended = await runProcess({
      ...options(""),
      shell: false,
      file: "./tool",
      args: [path.join(dir, "parent")],
    });
    expect(ended).toEqual({ reason: "exited", exitCode: 0 });
    expect(await read("parent")).toBe("perl");
  });

  it("starts reapers ahead of the programs, which then start no more", async () => {
    const before = reaperCount();
    prestartReapers(before + 2);
    expect(reaperCount()).toBe(before + 2);
    const parents = await Promise.all(
      Array.from({ length: before + 2 }, (_, i) => reaperOf(`ahead-${i}`, "sleep 0.3")),
    );
    expect(new Set(parents).size).toBe(before + 2);
    expect(reaperCount()).toBe(before + 2);
  });

  it("hands each program only its own output and its own stdin", async () => {
    // More output than a pipe holds, and a long stdin, then a short one on the same reaper: the
    // stdin file is rewritten in place and must not keep the tail of the longer text.
    const big = path.join(dir, "big.log");
    const bigInput = `${"x".repeat(200_000)}\n`;
    const first = await runProcess(
      options('head -c 300000 /dev/zero | tr "\\0" a; echo; wc -c > "$OUT/first-stdin"', {
        logFile: big,
        stdinText: bigInput,
      }),
    );
    expect(first).toEqual({ reason: "exited", exitCode: 0 });
    const small = path.join(dir, "small.log");
    const second = await runProcess(
      options('echo second; cat > "$OUT/second-stdin"', { logFile: small, stdinText: "short\n" }),
    );
    expect(second).toEqual({ reason: "exited", exitCode: 0 });
    expect(await read("first-stdin")).toBe(String(bigInput.length));
    expect(await readFile(path.join(dir, "second-stdin"), "utf8")).toBe("short\n");
    expect(await readFile(big, "utf8")).toBe(`${"a".repeat(300_000)}\n`);
    expect(await readFile(small, "utf8")).toBe("second\n");
  });

  it("leaves a program's stdin for no other program to read, beside it or after it", async () => {
    // The reaper's stdin file is its last argument: a program can find it from its parent.
    const stdinFile = 'tr "\\0" "\\n" < /proc/$PPID/cmdline | tail -n 1';
    const first = runProcess(
      options(`cat > "$OUT/first-stdin"; echo $PPID > "$OUT/first"; sleep 0.5`, {
        stdinText: "the first program's prompt\n",
      }),
    );
    for (let tries = 0; !existsSync(path.join(dir, "first")) && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const reaper = await read("first");
    const file = (await readFile(`/proc/${reaper}/cmdline`, "utf8")).split("\0").at(-2) ?? "";
    expect(existsSync(file) ? await readFile(file, "utf8") : "").toBe("");
    expect(await first).toEqual({ reason: "exited", exitCode: 0 });
    expect(await read("first-stdin")).toBe("the first program's prompt");
    await new Promise((resolve) => setTimeout(resolve, 100)); // the reaper is idle again
    const next = await runProcess(
      options(`echo $PPID > "$OUT/next"; cat "$(${stdinFile})" > "$OUT/found" 2>/dev/null; true`),
    );
    expect(next).toEqual({ reason: "exited", exitCode: 0 });
    expect(await read("next")).toBe(reaper);
    expect(await read("found")).toBe("");
  });

  it("gives a reaper no new program while the last one's output is still unread", async () => {
    // The next program's reading end would take what is left in the pipe as its own.
    const request = (command: string) => ({
      file: command,
      args: [],
      shell: true,
      cwd: dir,
      env: { PATH: process.env.PATH },
      stdinText: undefined,
      graceMs: 300,
    });
    const first = startReaped(request('echo $PPID; head -c 50000 /dev/zero | tr "\\0" a'));
    expect(first).toBeDefined();
    expect(await first?.ended).toEqual({ code: 0, signal: null, reaped: true });
    const second = startReaped(request("echo $PPID; echo second"));
    const [one = "", two = ""] = await Promise.all(
      [first, second].map((launched) => textOf(launched)),
    );
    expect(two).toMatch(/^\d+\nsecond\n$/);
    expect(one).toBe(`${one.split("\n")[0]}\n${"a".repeat(50_000)}`);
    expect(two.split("\n")[0]).not.toBe(one.split("\n")[0]);
  });

  /** What a program inherits that another process may change: open files, nice, autogroup, I/O, CPUs. */
  const INHERITED = `echo "$(ulimit -n) $(cut -d " " -f 19 /proc/$$/stat) $(cut -d " " -f 3 /proc/$$/autogroup) $(ionice -p $$) $(grep Cpus_allowed_list /proc/$$/status)"`;
  /**
   * The same, for a shell started straight from this process in a session of its own, as a reaper
   * is: as a reaper's program should see it. The session matters for the autogroup: a new session
   * has one of its own at niceness 0, whatever this process's is (under an init that never called
   * setsid, the kernel's root autogroup, whose file reads empty).
   */
  const asStartedHere = () =>
    execFileSync("setsid", ["-w", "/bin/sh", "-c", INHERITED], { encoding: "utf8" }).trim();

  it("gives the next program nothing its last one changed in their reaper (limits, niceness, I/O, CPUs)", async () => {
    // A program may lower its parent's limits or niceness as it may its own: the reaper's next
    // program would inherit them, and every one after it.
    const expected = asStartedHere();
    const changes = [
      "prlimit --pid $PPID --nofile=20:20",
      "renice -n 7 -p $PPID >/dev/null",
      "echo 5 > /proc/$PPID/autogroup", // the niceness of the reaper's session
      "ionice -c 3 -p $PPID",
      "taskset -p 1 $PPID >/dev/null",
    ];
    for (const [at, change] of changes.entries()) {
      await reaperOf(`changer-${at}`, change);
      await new Promise((resolve) => setTimeout(resolve, 100)); // the reaper would be idle again
      const ended = await runProcess(options(`${INHERITED} > "$OUT/next-${at}"`));
      expect(ended).toEqual({ reason: "exited", exitCode: 0 });
      expect(await read(`next-${at}`), change).toBe(expected);
    }
  });

  it("gives the next program nothing another process changed in an idle reaper", async () => {
    const expected = asStartedHere();
    const reaper = await reaperOf("idle");
    await new Promise((resolve) => setTimeout(resolve, 100)); // idle again, waiting for work
    execFileSync("renice", ["-n", "9", "-p", String(reaper)]);
    execFileSync("ionice", ["-c", "3", "-p", String(reaper)]);
    // The program the changed reaper refuses reaches a new one whole: its stdin and its output.
    const ended = await runProcess(
      options(`echo $PPID > "$OUT/parent"; ${INHERITED} > "$OUT/after"; cat; echo done`, {
        stdinText: "the prompt\n",
      }),
    );
    expect(ended).toEqual({ reason: "exited", exitCode: 0 });
    expect(await read("after")).toBe(expected);
    expect(await read("step.log")).toBe("the prompt\ndone");
    expect(Number(await read("parent"))).not.toBe(reaper);
    for (let tries = 0; isRunning(reaper) && tries < 50; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(isRunning(reaper)).toBe(false);
  });

  it("keeps no descriptor of a reaper it could not use (one of its pipes was removed)", async () => {
    const reaper = await reaperOf("before");
    await new Promise((resolve) => setTimeout(resolve, 100)); // the reaper is idle again
    const [, , , out = "", err = ""] = (await readFile(`/proc/${reaper}/cmdline`, "utf8")).split(
      "\0",
    );
    rmSync(err);
    expect(await reaperOf("after")).not.toBe(reaper);
    for (let tries = 0; isRunning(reaper) && tries < 50; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const held = readdirSync("/proc/self/fd").filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).startsWith(out);
      } catch {
        return false;
      }
    });
    expect(held).toEqual([]);
  });

  it("reports a program a real-time signal ended as killed by it, not as an exit", async () => {
    // Node has no name for signals 34 to 64; a program ended by one must not read as exit code 1,
    // nor as the success Node itself reports for a child it forked.
    const ended = await runProcess(options("kill -36 $$; sleep 1"));
    expect(ended).toEqual({ reason: "signal", signal: "signal 36" });
  });

  it("replaces a reaper its program killed", async () => {
    const killed = await runProcess(
      options('echo $PPID > "$OUT/killed"; kill -KILL $PPID; sleep 0.1'),
    );
    expect(killed).toEqual({ reason: "signal", signal: "SIGKILL" });
    const next = await reaperOf("next");
    expect(next).not.toBe(Number(await read("killed")));
  });

  it("gives up on a reaper its program stopped, and the next program gets a new one", async () => {
    const started = Date.now();
    const stopped = await runProcess(
      options('echo $PPID > "$OUT/stopped"; kill -STOP $PPID', { timeoutMs: 500, graceMs: 100 }),
    );
    // The step ends at its timeout; the reaper is killed after two grace periods and a second.
    expect(stopped).toEqual({ reason: "timeout", timeoutMs: 500 });
    expect(Date.now() - started).toBeLessThan(5_000);
    const reaper = Number(await read("stopped"));
    for (let tries = 0; isRunning(reaper) && tries < 50; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(isRunning(reaper)).toBe(false);
    expect(await reaperOf("after")).not.toBe(reaper);
  });

  it("ends its reapers with the process that started them, and leaves no files", async () => {
    const home = path.join(dir, "home");
    const [reaper, ...rest] = (await runProgram(home, ["echo $PPID"])).trim().split("\n");
    expect(rest).toEqual(["exited 0"]);
    expect(Number(reaper)).toBeGreaterThan(0);
    expect(isRunning(Number(reaper))).toBe(false);
    // Its pipes and stdin file went with the private folder, and with them ~/.conductor.
    expect(existsSync(home) ? readdirSync(home) : []).toEqual([]);
  });

  it("goes on with a new reaper in a new folder when its folder was removed (a cleaner of old files)", async () => {
    const home = path.join(dir, "home");
    const out = await runProgram(home, [
      'rm -rf "$HOME"/.conductor/tmp/shells-*; echo gone',
      "cat /proc/$PPID/comm",
    ]);
    expect(out).toBe("gone\nexited 0\nperl\nexited 0\n");
    expect(existsSync(home) ? readdirSync(home) : []).toEqual([]);
  });

  it("goes on with a new reaper when its folder is removed while a reaper starts, and stays reaping", async () => {
    // The reaper finds no folder to make its pipes in and exits before it is ready: the program
    // it was to start must still be reaped, and so must the next ones.
    const folder = privateFolder();
    expect(folder).toBeDefined();
    prestartReapers(reaperCount() + 1);
    rmSync(folder ?? "", { recursive: true, force: true });
    const parents = [];
    for (const name of ["first", "next"]) {
      const ended = await runProcess(options(`cat /proc/$PPID/comm > "$OUT/${name}"`));
      expect(ended).toEqual({ reason: "exited", exitCode: 0 });
      parents.push(await read(name));
    }
    expect(parents).toEqual(["perl", "perl"]);
  });
});

/** Everything a launched program wrote to its stdout. */
async function textOf(launched: Launched | undefined): Promise<string> {
  const output = await launched?.output;
  if (output === undefined) return "";
  output.stderr.resume();
  let text = "";
  for await (const chunk of output.stdout) text += chunk;
  return text;
}

/**
 * Bundles into `dir` a program that runs `commands` one after another with runProcess, printing
 * what each wrote and how it ended, and then has nothing left to do: the process must exit by
 * itself. Runs it with `home` as HOME and returns what it printed.
 */
async function runProgram(home: string, commands: readonly string[]): Promise<string> {
  const entry = path.join(dir, "entry.ts");
  const log = path.join(dir, "program.log");
  writeFileSync(
    entry,
    `import { readFileSync, rmSync } from "node:fs";
import { runProcess } from ${JSON.stringify(path.resolve("src/process/run.ts"))};
import { Redactor } from ${JSON.stringify(path.resolve("src/secrets/redact.ts"))};
for (const command of ${JSON.stringify(commands)}) {
  rmSync(${JSON.stringify(log)}, { force: true });
  const ended = await runProcess({
    file: command, shell: true, cwd: ${JSON.stringify(dir)}, env: {},
    signal: new AbortController().signal, timeoutMs: 30000,
    logFile: ${JSON.stringify(log)}, redactor: new Redactor([]),
  });
  process.stdout.write(readFileSync(${JSON.stringify(log)}, "utf8"));
  console.log(ended.reason, ended.reason === "exited" ? ended.exitCode : "");
}
`,
  );
  const program = path.join(dir, "program.mjs");
  buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    format: "esm",
    outfile: program,
    logLevel: "silent",
  });
  const child = spawn(process.execPath, [program], {
    cwd: dir,
    env: { ...process.env, HOME: home },
  });
  let out = "";
  child.stdout.on("data", (chunk) => {
    out += chunk;
  });
  const code = await new Promise((resolve) => child.once("exit", resolve));
  expect(code).toBe(0);
  return out;
}
