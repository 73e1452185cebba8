// A daemon that leaves its group (`setsid nohup server &`) execs three programs in a row, and
// for a moment in each exec its environment reads empty: a scan for conductor's tag at that moment
// would miss it, and it would outlive its step. Seen once in CI; reproduced here by ending
// hundreds of such programs while two busy loops compete for the CPU (before the fix, 2 to 3 of
// 600 survived). The scan of programs run on the terminal (`conductor exec`, `shell`), which ends
// processes by pid, missed them the same way until it read them again too (7 of 400 survived).
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { afterEach, expect, it } from "vitest";
import { endMarkedPids } from "../../src/process/groups.js";
import { runProcess } from "../../src/process/run.js";
import { Redactor } from "../../src/secrets/redact.js";
import { tempDirForTest } from "../helpers/temp-homes.js";

/** A `sleep` argument no other process uses: its survivors are found by their command line. */
const MARK = "1777.25";

let busy: ChildProcess[] = [];
afterEach(() => {
  for (const child of busy) child.kill("SIGKILL");
  busy = [];
  for (const pid of survivors()) process.kill(pid, "SIGKILL");
});

/** Live processes whose command line carries {@link MARK}. */
function survivors(): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "latin1");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, "latin1").includes(MARK))
        found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

it("ends every setsid daemon a program leaves, also one caught in the middle of an exec", async () => {
  const dir = tempDirForTest("daemon-race-");
  busy = [0, 1].map(() => spawn("sh", ["-c", "while :; do :; done"], { stdio: "ignore" }));
  let survived = 0;
  for (let round = 0; round < 400; round++) {
    const ended = await runProcess({
      file: `setsid nohup sleep ${MARK} >/dev/null 2>&1 &`,
      shell: true,
      cwd: dir,
      env: {},
      signal: new AbortController().signal,
      timeoutMs: 30_000,
      logFile: `${dir}/daemon.log`,
      redactor: new Redactor([]),
      graceMs: 1000,
    });
    expect(ended).toEqual({ reason: "exited", exitCode: 0 });
    const left = survivors();
    survived += left.length;
    for (const pid of left) process.kill(pid, "SIGKILL");
  }
  expect(survived).toBe(0);
}, 120_000);

it("ends every setsid daemon a terminal program leaves (ended one by one, by pid), also one caught in the middle of an exec", async () => {
  busy = [0, 1].map(() => spawn("sh", ["-c", "while :; do :; done"], { stdio: "ignore" }));
  const marker = "CONDUCTOR_TERMINAL_TAG=race-test";
  let survived = 0;
  for (let round = 0; round < 400; round++) {
    // As runOnTerminal starts a program: the tag in its environment, its end awaited first.
    const program = spawn("sh", ["-c", `setsid nohup sleep ${MARK} >/dev/null 2>&1 &`], {
      env: { ...process.env, CONDUCTOR_TERMINAL_TAG: "race-test" },
      stdio: "ignore",
    });
    await new Promise((resolve) => program.once("exit", resolve));
    await endMarkedPids(marker, 1000);
    const left = survivors();
    survived += left.length;
    for (const pid of left) process.kill(pid, "SIGKILL");
  }
  expect(survived).toBe(0);
}, 120_000);
