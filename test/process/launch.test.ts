// Programs that runProcess starts from a shell of the pool instead of forking Node: they run as
// Node's spawn would run them, and what one leaves behind never reaches the next one.
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ProcessOptions, runProcess } from "../../src/process/run.js";
import { Redactor } from "../../src/secrets/redact.js";

let dir: string;
const leftovers: number[] = [];
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "conductor-launch-"));
});
afterEach(async () => {
  for (const pid of leftovers.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  await rm(dir, { recursive: true, force: true });
});

function options(log: string, overrides: Partial<ProcessOptions>): ProcessOptions {
  return {
    file: "/bin/sh",
    cwd: dir,
    env: {},
    signal: new AbortController().signal,
    timeoutMs: 30_000,
    logFile: path.join(dir, `${log}.log`),
    redactor: new Redactor(["hunter2-secret"]),
    graceMs: 200,
    ...overrides,
  };
}

/** Runs `script` with /bin/sh; returns its stdout lines. */
async function linesOf(log: string, script: string, env: Record<string, string> = {}) {
  const lines: string[] = [];
  const ended = await runProcess(
    options(log, { args: ["-c", script], env, onStdoutLine: (line) => lines.push(line) }),
  );
  expect(ended, lines.join("\n")).toEqual({ reason: "exited", exitCode: 0 });
  return lines;
}

/** Prints the program's pid, group, session, its parent's name and its parent's parent. */
const WHERE_AM_I = [
  "set -- $(cut -d' ' -f5,6 /proc/$$/stat)",
  'echo "$$ $1 $2 $(cat /proc/$PPID/comm) $(cut -d" " -f4 /proc/$PPID/stat)"',
].join("; ");

describe.skipIf(process.platform !== "linux")("programs started from the shell pool", () => {
  it("run in a session of their own, started by a shell of conductor's, with the environment given", async () => {
    const [where = "", extra] = await linesOf("where", `${WHERE_AM_I}; echo "$EXTRA"`, {
      EXTRA: "given value's",
    });
    const [pid, group, session, parent] = where.split(" ");
    expect(group).toBe(pid);
    expect(session).toBe(pid);
    expect(parent).toBe("sh");
    expect(extra).toBe("given value's");
  });

  it("go through Node's spawn when a variable's name is no shell name, and still get it", async () => {
    // The shell drops such a name from what it passes on; its own environment holds it.
    const [where = "", extra] = await linesOf(
      "node",
      `${WHERE_AM_I}; tr '\\0' '\\n' < /proc/$$/environ | grep '^MY-VAR='`,
      {
        "MY-VAR": "dashed",
      },
    );
    const [pid, group, , parent] = where.split(" ");
    expect(group).toBe(pid);
    expect(parent).toBe("node");
    expect(extra).toBe("MY-VAR=dashed");
  });

  it("reuse a shell whose named pipes closed, and never one whose pipes something still holds", async () => {
    const [first = ""] = await linesOf("a", WHERE_AM_I);
    const [second = ""] = await linesOf("b", WHERE_AM_I);
    // Sequential programs get the same shell back: its pipes closed with each program.
    expect(second.split(" ")[4]).toBe(first.split(" ")[4]);

    // A leftover out of reach (no tag, a session of its own) keeps the program's stdout open
    // and writes to it later; the output is cut, and the shell is not used again.
    const daemonPid = path.join(dir, "daemon.pid");
    const [holder = ""] = await linesOf(
      "holder",
      `${WHERE_AM_I}; env -u CONDUCTOR_PROCESS_TAG setsid sh -c 'echo $$ > "$0"; sleep 0.8; echo late-output; sleep 30' ${daemonPid} & while [ ! -s ${daemonPid} ]; do sleep 0.01; done`,
    );
    leftovers.push(Number(readFileSync(daemonPid, "utf8")));
    const [after = ""] = await linesOf("after", WHERE_AM_I);
    expect(after.split(" ")[4]).not.toBe(holder.split(" ")[4]);
    // Past the leftover's late line: it reached no log.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await linesOf("later", "echo later");
    for (const log of ["holder", "after", "later"])
      expect(await readFile(path.join(dir, `${log}.log`), "utf8")).not.toContain("late-output");
  });

  it("keep the program's environment off the disk once it started", async () => {
    const seen: string[] = [];
    const ended = await runProcess(
      options("secret", {
        args: ["-c", "echo started; sleep 0.5"],
        env: { TOKEN: "hunter2-secret" },
        onStdoutLine: () => {
          const home = path.join(os.homedir(), ".conductor", "tmp");
          for (const folder of readdirSync(home).filter((name) => name.startsWith("shells-"))) {
            for (const file of readdirSync(path.join(home, folder)).filter((name) =>
              name.endsWith(".sh"),
            ))
              seen.push(readFileSync(path.join(home, folder, file), "utf8"));
          }
        },
      }),
    );
    expect(ended.reason).toBe("exited");
    expect(seen.length).toBeGreaterThan(0);
    for (const request of seen) expect(request).not.toContain("hunter2-secret");
  });
});
