// The reaper (reaper.ts): what a step leaves behind after clearing its environment and leaving
// its session is ended with the step, and the step's program still ends as it would have.
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { findOnPath } from "../../src/process/find-on-path.js";
import { type ProcessOptions, runProcess } from "../../src/process/run.js";
import { isRunning } from "../helpers/running.js";
import { shellStep } from "../helpers/shell-step.js";

/** Where the reaper runs: Linux with Perl (every Debian and Ubuntu, this project's CI). */
const reaping = process.platform === "linux" && findOnPath("perl") !== undefined;

let dir: string;
const escaped: number[] = [];
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "conductor-reaper-"));
});
afterEach(async () => {
  // A failing test must not leave its daemon behind.
  for (const pid of escaped.splice(0)) if (isRunning(pid)) process.kill(pid, "SIGKILL");
  await rm(dir, { recursive: true, force: true });
});

function options(command: string, overrides: Partial<ProcessOptions> = {}): ProcessOptions {
  return shellStep(dir, command, overrides);
}

/**
 * A daemon nothing links to the step: a cleared environment (no tag), its own session (no
 * group), its folder `/`. It writes its pid to $OUT/<name>.pid once running; the step waits for
 * that, so the daemon is certainly orphaned only after the step's program exits.
 */
function daemon(name: string, body = "exec sleep 300"): string {
  return (
    `env -i setsid /bin/sh -c 'cd /; echo $$ > "$1.tmp"; mv "$1.tmp" "$1"; ${body}' sh "$OUT/${name}.pid" </dev/null >/dev/null 2>&1 & ` +
    `while [ ! -s "$OUT/${name}.pid" ]; do sleep 0.02; done`
  );
}

async function pidOf(name: string): Promise<number> {
  const pid = Number(await readFile(path.join(dir, `${name}.pid`), "utf8"));
  escaped.push(pid);
  return pid;
}

describe.runIf(reaping)("the reaper", () => {
  it("ends a daemon that cleared its environment and left its session when its step ends, not before", async () => {
    const ended = await runProcess(
      options(
        `${daemon("d")}; sleep 0.3; kill -0 "$(cat "$OUT/d.pid")" && echo alive > "$OUT/during"`,
      ),
    );
    expect(ended).toEqual({ reason: "exited", exitCode: 0 });
    expect(existsSync(path.join(dir, "during"))).toBe(true);
    expect(isRunning(await pidOf("d"))).toBe(false);
  });

  it("kills one that ignores SIGTERM after the grace period", async () => {
    const started = Date.now();
    const ended = await runProcess(
      options(daemon("stubborn", 'trap "" TERM; while :; do sleep 1; done')),
    );
    expect(ended).toEqual({ reason: "exited", exitCode: 0 });
    expect(isRunning(await pidOf("stubborn"))).toBe(false);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("ends the daemons of a step that failed or was cancelled too", async () => {
    const failed = await runProcess(options(`${daemon("f")}; exit 7`));
    expect(failed).toEqual({ reason: "exit-non-zero", exitCode: 7 });
    expect(isRunning(await pidOf("f"))).toBe(false);

    const controller = new AbortController();
    const cancelled = runProcess(
      options(`${daemon("c")}; sleep 30`, { signal: controller.signal }),
    );
    while (!existsSync(path.join(dir, "c.pid"))) await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    expect(await cancelled).toEqual({ reason: "cancelled" });
    expect(isRunning(await pidOf("c"))).toBe(false);
  });

  it("cannot be ended early by the program with a signal, and when killed the tag still finds what is left", async () => {
    // Every signal but SIGKILL is ignored: a wrapper that ended otherwise did its work.
    const signalled = await runProcess(
      options(
        `${daemon("s")}; for s in USR1 USR2 HUP TERM INT QUIT PIPE ALRM; do kill -$s $PPID; done; sleep 0.2`,
      ),
    );
    expect(signalled).toEqual({ reason: "exited", exitCode: 0 });
    expect(isRunning(await pidOf("s"))).toBe(false);

    // Killed, it leaves the program's orphans to init: those that kept the tag are still ended.
    const killed = await runProcess(
      options(
        `setsid /bin/sh -c 'echo $$ > "$OUT/k.tmp"; mv "$OUT/k.tmp" "$OUT/k.pid"; exec sleep 300' </dev/null >/dev/null 2>&1 & ` +
          `while [ ! -s "$OUT/k.pid" ]; do sleep 0.02; done; kill -KILL $PPID; sleep 0.2`,
      ),
    );
    expect(killed).toEqual({ reason: "signal", signal: "SIGKILL" });
    expect(isRunning(await pidOf("k"))).toBe(false);
  });

  it("cannot be ended early with a fault signal either", async () => {
    // kill -SEGV $PPID ended the wrapper before its work; its death by SIGSEGV then also spared
    // the step the scan for tagged leftovers, so the daemon outlived the step.
    for (const fault of ["SEGV", "ABRT", "BUS", "FPE", "ILL", "TRAP", "SYS"]) {
      const ended = await runProcess(
        options(`${daemon(fault)}; kill -${fault} $PPID; sleep 0.2; exit 4`),
      );
      expect(ended).toEqual({ reason: "exit-non-zero", exitCode: 4 });
      expect(isRunning(await pidOf(fault))).toBe(false);
    }
  });

  it.runIf(findOnPath("prlimit") !== undefined)(
    "leaves no core of its own in the program's folder when re-raising the program's signal",
    async () => {
      // The program may not dump core (ulimit -c 0) but the wrapper's limit is the user's: a
      // re-raised SIGSEGV wrote a core of Perl into the workspace wherever core dumps are on.
      const ended = await runProcess(
        options("prlimit --pid $PPID --core=unlimited: && ulimit -c 0 && kill -SEGV $$"),
      );
      expect(ended).toEqual({ reason: "signal", signal: "SIGSEGV" });
      expect((await readdir(dir)).filter((name) => name.startsWith("core"))).toEqual([]);
    },
  );

  it("leaves the program the leader of its own process group, as without the wrapper", async () => {
    const ended = await runProcess(
      options('ps -o pgid= -p $$ | tr -d " " > "$OUT/pgid"; echo $$ > "$OUT/pid"; kill -TERM -$$'),
    );
    expect(ended).toEqual({ reason: "signal", signal: "SIGTERM" });
    const read = async (name: string) => (await readFile(path.join(dir, name), "utf8")).trim();
    expect(await read("pgid")).toBe(await read("pid"));
  });

  it("ends a stubborn program's daemon after a cancel too: the program's group is killed, not the wrapper", async () => {
    const controller = new AbortController();
    const cancelled = runProcess(
      options(`trap "" TERM; ${daemon("t", 'trap "" TERM; while :; do sleep 1; done')}; sleep 30`, {
        signal: controller.signal,
        graceMs: 300,
      }),
    );
    while (!existsSync(path.join(dir, "t.pid"))) await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    expect(await cancelled).toEqual({ reason: "cancelled" });
    expect(isRunning(await pidOf("t"))).toBe(false);
  });

  it("reports the program's own exit code and signal, SIGTERM included", async () => {
    expect(await runProcess(options("exit 3"))).toEqual({ reason: "exit-non-zero", exitCode: 3 });
    expect(await runProcess(options("kill -USR1 $$"))).toEqual({
      reason: "signal",
      signal: "SIGUSR1",
    });
    expect(await runProcess(options("kill -TERM $$"))).toEqual({
      reason: "signal",
      signal: "SIGTERM",
    });
    // Perl ignores SIGFPE from its start: the wrapper's re-raise of it was lost (exit 136).
    expect(await runProcess(options("kill -FPE $$"))).toEqual({
      reason: "signal",
      signal: "SIGFPE",
    });
  });

  it("reports a program that cannot start as Node would have, and gives a started one no extra descriptor", async () => {
    // A directory passes the look-up before the wrapper (it is "executable"), a script whose
    // interpreter is missing too: exec fails in the wrapper, and the step ended with exit 126 or
    // 127 and a line of the wrapper's in its log instead of Node's spawn error.
    await mkdir(path.join(dir, "folder"));
    await writeFile(path.join(dir, "orphan-script"), "#!/no/such/interpreter\necho hi\n", {
      mode: 0o755,
    });
    const direct = (file: string) =>
      runProcess({ ...options(""), shell: false, file: path.join(dir, file), args: ["x"] });
    expect(await direct("folder")).toEqual({
      reason: "spawn-error",
      message: `spawn ${path.join(dir, "folder")} EACCES`,
    });
    expect(await direct("orphan-script")).toEqual({
      reason: "spawn-error",
      message: `spawn ${path.join(dir, "orphan-script")} ENOENT`,
    });
    expect(
      existsSync(path.join(dir, "step.log"))
        ? await readFile(path.join(dir, "step.log"), "utf8")
        : "",
    ).toBe("");
    expect(await runProcess(options("[ ! -e /proc/self/fd/3 ]"))).toEqual({
      reason: "exited",
      exitCode: 0,
    });
  });

  it("passes stdin, arguments, the user's PERL5OPT and LC_ALL to the program, running without them itself", async () => {
    const seen =
      'read -r line; printf "%s|%s|%s\\n" "$line" "$PERL5OPT" "$(printenv LC_ALL || echo unset)" > "$OUT/seen"';
    const ended = await runProcess(
      options(seen, {
        env: { OUT: dir, PERL5OPT: "-MNo::Such::Module", LC_ALL: "C.UTF-8" },
        stdinText: "hello from stdin\n",
      }),
    );
    expect(ended).toEqual({ reason: "exited", exitCode: 0 });
    expect(await readFile(path.join(dir, "seen"), "utf8")).toBe(
      "hello from stdin|-MNo::Such::Module|C.UTF-8\n",
    );
    const { LC_ALL: _, ...withoutLocale } = process.env;
    const saved = process.env;
    process.env = withoutLocale;
    try {
      expect(await runProcess(options(seen, { stdinText: "x\n" }))).toEqual({
        reason: "exited",
        exitCode: 0,
      });
    } finally {
      process.env = saved;
    }
    expect(await readFile(path.join(dir, "seen"), "utf8")).toBe("x||unset\n");
    const direct = await runProcess({
      ...options(""),
      shell: false,
      file: "/bin/sh",
      args: ["-c", 'printf "%s,%s" "$0" "$1" > "$OUT/args"', "zero", "it's one"],
    });
    expect(direct).toEqual({ reason: "exited", exitCode: 0 });
    expect(await readFile(path.join(dir, "args"), "utf8")).toBe("zero,it's one");
  });
});
