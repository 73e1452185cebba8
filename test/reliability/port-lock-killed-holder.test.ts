// The port registry's lock held by a conductor killed with SIGKILL: the next one takes it over
// at once instead of waiting ten seconds for it to go stale; waiters racing for it take it one
// at a time; a holder that is alive is still waited for.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { buildSync } from "esbuild";
import { afterEach, describe, expect, it } from "vitest";
import { registryFile, reservePorts } from "../../src/executor/ports.js";
import { tempDirForTest } from "../helpers/temp-homes.js";
import { pollUntil } from "./rig.js";

/** proper-lockfile's staleness the registry lock keeps as its fallback (ports.ts). */
const STALE_MS = 10_000;
/** Far below STALE_MS, with room for a busy 2-core machine: not waiting for staleness. */
const AT_ONCE_MS = 3000;

/**
 * A program that takes the registry lock of $HOME through conductor's own lock code. `hold`:
 * says "held", keeps the lock until a line arrives on stdin, then says "released". `turn`: takes
 * the lock, proves nobody else is inside (an O_EXCL file), stays 50 ms, leaves and says "done".
 */
const PROGRAM = `
import { closeSync, mkdirSync, openSync, rmSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { lockWithHolder } from "./lock-with-holder.ts";
const home = process.env.HOME;
mkdirSync(home + "/.conductor", { recursive: true });
process.stdout.write("waiting\\n");
const release = await lockWithHolder(home + "/.conductor/ports.json", { stale: ${STALE_MS}, waitMs: 60_000 });
if (process.argv[2] === "hold") {
  process.stdout.write("held\\n");
  process.stdin.once("data", async () => {
    await release();
    process.stdout.write("released\\n");
    process.exit(0);
  });
} else {
  closeSync(openSync(home + "/inside", "wx"));
  await sleep(50);
  rmSync(home + "/inside");
  await release();
  process.stdout.write("done\\n");
}
`;

interface Started {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  exited: Promise<number | null>;
}

const started: Started[] = [];
afterEach(() => {
  for (const { child } of started.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

function lockProgram(dir: string): string {
  const outfile = path.join(dir, "lock-program.mjs");
  buildSync({
    stdin: { contents: PROGRAM, resolveDir: path.resolve("src/fs"), loader: "ts" },
    bundle: true,
    platform: "node",
    format: "esm",
    // proper-lockfile is CommonJS and requires node's modules.
    banner: {
      js: 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);',
    },
    outfile,
    logLevel: "silent",
  });
  return outfile;
}

function start(program: string, home: string, mode: "hold" | "turn"): Started {
  const child = spawn(process.execPath, [program, mode], { env: { ...process.env, HOME: home } });
  let out = "";
  child.stdout.on("data", (chunk) => {
    out += chunk;
  });
  child.stderr.on("data", (chunk) => {
    out += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
  const handle = { child, output: () => out, exited };
  started.push(handle);
  return handle;
}

async function said(program: Started, word: string): Promise<void> {
  await pollUntil(
    () => program.output().includes(`${word}\n`),
    `"${word}" from the lock program`,
    30_000,
    20,
  );
}

function request(home: string) {
  return {
    count: 5,
    preferredIndex: 0,
    worktree: path.join(home, "worktree"),
    workspace: "w",
    runId: "run",
  };
}

describe("the port registry's lock", () => {
  it("held by a process killed with SIGKILL is taken over at once, and the registry written", async () => {
    const home = tempDirForTest("port-lock-");
    const holder = start(lockProgram(home), home, "hold");
    await said(holder, "held");
    const lockDir = `${registryFile(home)}.lock`;
    expect(existsSync(lockDir)).toBe(true);
    holder.child.kill("SIGKILL");
    await holder.exited;
    expect(existsSync(lockDir)).toBe(true); // nothing removed it

    const began = Date.now();
    const reservation = await reservePorts(home, request(home));
    const took = Date.now() - began;

    expect(took).toBeLessThan(AT_ONCE_MS);
    const registry = JSON.parse(readFileSync(registryFile(home), "utf8"));
    expect(registry.reservations).toEqual([reservation]);
    expect(reservation).toMatchObject({ worktree: path.join(home, "worktree"), pid: process.pid });
    expect(existsSync(lockDir)).toBe(false);
  });

  it("is waited for while its holder lives, and taken when it releases", async () => {
    const home = tempDirForTest("port-lock-");
    const holder = start(lockProgram(home), home, "hold");
    await said(holder, "held");

    let settledAt: number | undefined;
    const reserving = reservePorts(home, request(home)).finally(() => {
      settledAt = Date.now();
    });
    // Longer than any take-over of a dead holder takes (AT_ONCE_MS), shorter than staleness.
    await new Promise((resolve) => setTimeout(resolve, AT_ONCE_MS));
    expect(settledAt).toBeUndefined();
    expect(existsSync(registryFile(home))).toBe(false);

    const releasedAt = Date.now();
    holder.child.stdin.write("release\n");
    await said(holder, "released");
    const reservation = await reserving;

    expect(settledAt).toBeGreaterThanOrEqual(releasedAt);
    expect(JSON.parse(readFileSync(registryFile(home), "utf8")).reservations).toEqual([
      reservation,
    ]);
    expect(await holder.exited).toBe(0);
  });

  it("left by a killed holder goes to one waiter at a time when several race for it", async () => {
    const home = tempDirForTest("port-lock-");
    const program = lockProgram(home);
    const holder = start(program, home, "hold");
    await said(holder, "held");
    const racers = [1, 2, 3, 4].map(() => start(program, home, "turn"));
    for (const racer of racers) await said(racer, "waiting");
    // Let every racer find the lock held and poll for it before its holder dies.
    await new Promise((resolve) => setTimeout(resolve, 300));
    holder.child.kill("SIGKILL");
    const began = Date.now();

    const codes = await Promise.all(racers.map((racer) => racer.exited));
    const took = Date.now() - began;

    expect(codes, racers.map((racer) => racer.output()).join("\n---\n")).toEqual([0, 0, 0, 0]);
    for (const racer of racers) expect(racer.output()).toContain("done\n");
    // Four turns of 50 ms and four process exits, not ten seconds of staleness.
    expect(took).toBeLessThan(STALE_MS / 2);
    expect(existsSync(`${registryFile(home)}.lock`)).toBe(false);
  });
});
