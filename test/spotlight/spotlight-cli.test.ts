import { existsSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { type ReviewRepo, reviewRepo, runAll, waitFor } from "../review/rig.js";
import { checkoutState } from "./rig.js";

let repo: ReviewRepo | undefined;
const started: { kill(signal?: NodeJS.Signals): boolean }[] = [];

afterEach(async () => {
  for (const child of started.splice(0)) child.kill("SIGKILL");
  await repo?.remove();
  repo = undefined;
});

/** The workspaces' agents: `web` adds web.txt and edits README.md; `api` adds api/ files. */
async function repoWithRun(): Promise<ReviewRepo> {
  const current = await reviewRepo([
    { id: "web", agent: 'echo web > web.txt; echo "# review, with web" > README.md' },
    { id: "api", agent: "mkdir -p api && echo api > api/server.txt" },
  ]);
  const result = await runAll(current);
  expect(result.exitCode, result.all).toBe(0);
  return current;
}

/** Some uncommitted state of the user's own in the main checkout, ignored files included. */
async function ownChanges(current: ReviewRepo): Promise<void> {
  await current.write({ "mine.txt": "my untracked notes\n", ".env.local": "SECRET=1\n" });
  await current.write({
    "conductor.yaml": `${readFileSync(path.join(current.root, "conductor.yaml"), "utf8")}# mine\n`,
  });
  await current.git("add", "conductor.yaml");
  await mkdir(path.join(current.root, "node_modules"), { recursive: true });
  await writeFile(path.join(current.root, "node_modules/dep.js"), "dependency\n");
}

/** Starts `conductor spotlight <name> --watch` and waits until it watches; `output()` so far. */
async function startWatching(current: ReviewRepo, name: string) {
  const watch = current.start(["spotlight", name, "--watch"]);
  started.push(watch);
  let output = "";
  watch.all?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  await waitFor("the watch", () => output.includes(`Watching ${name}`));
  return { watch, output: () => output };
}

describe("conductor spotlight", () => {
  it("shows a workspace in the main checkout, says so in every command, switches, and --off restores it exactly", async () => {
    const current = await repoWithRun();
    repo = current;
    await ownChanges(current);
    const before = await checkoutState(current);

    const shown = await current.cli(["spotlight", "web"]);
    expect(shown.exitCode, shown.all).toBe(0);
    expect(shown.stdout).toContain("Spotlight shows web: 2 files of changes");
    expect(shown.stdout).toContain("refs/conductor/spotlight/saved");
    expect(readFileSync(path.join(current.root, "web.txt"), "utf8")).toBe("web\n");
    expect(readFileSync(path.join(current.root, "README.md"), "utf8")).toBe("# review, with web\n");
    // The user's own changes are still there, as uncommitted changes beside the workspace's.
    expect(readFileSync(path.join(current.root, "mine.txt"), "utf8")).toBe("my untracked notes\n");
    expect(await current.git("status", "--porcelain")).toContain(" M README.md");

    const status = await current.cli(["status"]);
    expect(status.stderr).toContain("Spotlight is on: the main checkout shows web's changes");
    expect(status.stderr).toContain("`conductor spotlight --off` restores it");

    const switched = await current.cli(["spotlight", "api"]);
    expect(switched.exitCode, switched.all).toBe(0);
    expect(switched.stdout).toContain("Spotlight switched from web to api");
    expect(existsSync(path.join(current.root, "web.txt"))).toBe(false);
    expect(readFileSync(path.join(current.root, "api/server.txt"), "utf8")).toBe("api\n");

    const off = await current.cli(["spotlight", "--off"]);
    expect(off.exitCode, off.all).toBe(0);
    expect(off.stdout).toContain("Spotlight is off");
    expect(await checkoutState(current)).toEqual(before);
    const after = await current.cli(["status"]);
    expect(after.stderr).not.toContain("Spotlight is on");
  });

  it("refuses a workspace whose changes conflict with the main checkout's, changing nothing", async () => {
    const current = await repoWithRun();
    repo = current;
    await current.write({ "web.txt": "the user's own web.txt\n" });
    const before = await checkoutState(current);
    const refused = await current.cli(["spotlight", "web"]);
    expect(refused.exitCode, refused.all).toBe(1);
    expect(refused.stderr).toContain(
      "web's changes conflict with the main checkout's own changes in web.txt",
    );
    expect(await checkoutState(current)).toEqual(before);
    expect(await current.git("for-each-ref", "refs/conductor/spotlight/")).toBe("");
    expect((await current.cli(["spotlight"])).stdout).toBe("Spotlight is off");
  });

  it("says which git command refused, as a failure rather than a bug, when git cannot take the workspace's files", async () => {
    const current = await repoWithRun();
    repo = current;
    // An agent's `git init` without a commit: `git add` refuses the embedded repository.
    await current.git("-C", current.worktree("web"), "init", "-q", "scaffold");
    const before = await checkoutState(current);
    const refused = await current.cli(["spotlight", "web"]);
    expect(refused.exitCode, refused.all).toBe(1);
    expect(refused.stderr).toContain(
      "conductor: git add failed: error: 'scaffold/' does not have a commit checked out",
    );
    expect(refused.stderr).toContain("Run again with --debug to see where conductor ran it.");
    expect(refused.stderr).not.toContain("internal error");
    expect(await checkoutState(current)).toEqual(before);
  });

  it("never overwrites an ignored file of the main checkout", async () => {
    const current = await reviewRepo([
      // The workspace stops ignoring .env.local and writes one: in the main checkout it is ignored.
      { id: "env", agent: "printf 'x\\n' > .gitignore; echo FROM_WORKSPACE=1 > .env.local" },
    ]);
    repo = current;
    expect((await runAll(current)).exitCode).toBe(0);
    await current.write({ ".env.local": "SECRET=mine\n" });
    const before = await checkoutState(current);
    const refused = await current.cli(["spotlight", "env"]);
    expect(refused.exitCode, refused.all).toBe(1);
    expect(refused.stderr).toContain(
      "would overwrite ignored files of the main checkout: .env.local",
    );
    expect(await checkoutState(current)).toEqual(before);
  });

  it("refuses while the workspace is being served", async () => {
    const current = await reviewRepo([{ id: "web" }], {
      scripts: { run: 'echo "serving $CONDUCTOR_WORKSPACE_NAME"; exec sleep 300' },
    });
    repo = current;
    expect((await runAll(current)).exitCode).toBe(0);
    const serve = current.start(["serve", "web"]);
    started.push(serve);
    let output = "";
    serve.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    await waitFor("the server", () => output.includes("serving web"));
    const before = await checkoutState(current);
    const refused = await current.cli(["spotlight", "web"]);
    expect(refused.exitCode, refused.all).toBe(1);
    expect(refused.stderr).toContain("web is being served (conductor serve)");
    expect(await checkoutState(current)).toEqual(before);
    serve.kill("SIGINT");
    await serve;
    const shown = await current.cli(["spotlight", "web"]);
    expect(shown.exitCode, shown.all).toBe(0);
  });

  it("--watch brings new changes over, one line per sync, and Ctrl-C leaves Spotlight on", async () => {
    const current = await repoWithRun();
    repo = current;
    const { watch, output } = await startWatching(current, "web");
    await writeFile(path.join(current.worktree("web"), "web.txt"), "web, edited\n");
    await writeFile(path.join(current.worktree("web"), "later.txt"), "later\n");
    await waitFor("a sync", () => output().includes("synced web")).catch((error: Error) => {
      throw new Error(`${error.message}; the watch said:\n${output()}`);
    });
    expect(readFileSync(path.join(current.root, "web.txt"), "utf8")).toBe("web, edited\n");
    expect(readFileSync(path.join(current.root, "later.txt"), "utf8")).toBe("later\n");
    expect(output().match(/synced web/g)).toHaveLength(1);
    watch.kill("SIGINT");
    const ended = await watch;
    expect(ended.stdout).toContain("Stopped watching; Spotlight still shows web");
    const off = await current.cli(["spotlight", "--off"]);
    expect(off.exitCode, off.all).toBe(0);
    expect(existsSync(path.join(current.root, "later.txt"))).toBe(false);
  });
});

describe("Spotlight --watch and the worktree's link", () => {
  it("puts back a .git pointed at another repository while it watches, before git reads that repository's config", async () => {
    const current = await repoWithRun();
    repo = current;
    const fake = path.join(current.home, "fake-repo");
    await current.git("init", "-q", fake);
    const mark = path.join(current.home, "fake-config-ran");
    const program = path.join(current.home, "mark.sh");
    await writeFile(program, `#!/bin/sh\necho ran >> '${mark}'\ncat\n`, { mode: 0o755 });
    await current.git("-C", fake, "config", "core.fsmonitor", program);
    await current.git("-C", fake, "config", "filter.evil.clean", program);
    await writeFile(path.join(current.worktree("web"), ".gitattributes"), "* filter=evil\n");
    const link = readFileSync(path.join(current.worktree("web"), ".git"), "utf8");
    const { watch, output } = await startWatching(current, "web");
    // What a process the agent left behind could do while the watch runs: point .git at its
    // repository again and again, also between the watch's look at the link and its git.
    const dotGit = path.join(current.worktree("web"), ".git");
    const daemon = execa("sh", [
      "-c",
      'while :; do printf "gitdir: %s/.git\\n" "$1" > "$2.new" && mv -f "$2.new" "$2"; sleep 0.02; done',
      "sh",
      fake,
      dotGit,
    ]);
    started.push(daemon);
    daemon.catch(() => {}); // ended by a kill, here or after the test
    await waitFor("the redirect", () => readFileSync(dotGit, "utf8").includes(fake));
    await writeFile(path.join(current.worktree("web"), "web.txt"), "web, edited\n");
    await waitFor("a sync", () => output().includes("synced web")).catch((error: Error) => {
      throw new Error(`${error.message}; the watch said:\n${output()}`);
    });
    daemon.kill("SIGKILL");
    await daemon.catch(() => {});
    // Its last redirect is put back by the next look.
    await waitFor("the link put back", () => readFileSync(dotGit, "utf8") === link);
    expect(output()).toContain(
      `conductor: warning: workspace web: the agent pointed the worktree's .git at "${fake}/.git" instead of`,
    );
    expect(existsSync(mark), output()).toBe(false);
    expect(readFileSync(path.join(current.root, "web.txt"), "utf8")).toBe("web, edited\n");
    watch.kill("SIGINT");
    await watch;
    expect((await current.cli(["spotlight", "--off"])).exitCode).toBe(0);
  });
});

describe("Spotlight and seeded folders", () => {
  it("leaves a workspace's symlinked seed folder out of what it shows", async () => {
    const current = await reviewRepo([{ id: "seeded" }], {
      workspaces: { seed: [{ path: "node_modules", mode: "symlink" }] },
      scripts: { setup: "mkdir -p node_modules/pkg && echo 1 > node_modules/pkg/index.js" },
    });
    repo = current;
    // `node_modules/` ignores a folder, not the symlink seeding puts in its place.
    await current.write({
      "package-lock.json": '{"lockfileVersion":3}\n',
      ".gitignore": ".env.local\nnode_modules/\n",
    });
    await current.commitAll("lockfile");
    expect((await runAll(current)).exitCode).toBe(0);

    const shown = await current.cli(["spotlight", "seeded"]);
    expect(shown.exitCode, shown.all).toBe(0);
    expect(shown.stdout).toContain("Spotlight shows seeded: 1 file of changes");
    expect(readFileSync(path.join(current.root, "seeded.txt"), "utf8")).toBe("seeded\n");
    expect(existsSync(path.join(current.root, "node_modules"))).toBe(false);
    expect((await current.cli(["spotlight", "--off"])).exitCode).toBe(0);
  });
});

describe("Spotlight and the workspace's life", () => {
  it("--off still restores the main checkout after the workspace was archived", async () => {
    const current = await repoWithRun();
    repo = current;
    await ownChanges(current);
    const before = await checkoutState(current);
    expect((await current.cli(["spotlight", "web"])).exitCode).toBe(0);
    const archived = await current.cli(["archive", "web"]);
    expect(archived.exitCode, archived.all).toBe(0);
    const sync = await current.cli(["spotlight", "web"]);
    expect(sync.exitCode, sync.all).toBe(2);
    const off = await current.cli(["spotlight", "--off"]);
    expect(off.exitCode, off.all).toBe(0);
    expect(await checkoutState(current)).toEqual(before);
  });
});

describe("Spotlight during a run", () => {
  it("--watch brings an agent's edits over while it works, and the run's check of the main checkout accepts them", async () => {
    // The agent edits its worktree, then keeps working long enough for the watch to sync.
    const current = await reviewRepo([
      {
        id: "slow",
        agent:
          'echo "edit $(date +%s%N)" >> slow.txt; mkdir -p fresh; echo x > "fresh/$(date +%N).txt"; sleep 4',
      },
    ]);
    repo = current;
    expect((await runAll(current)).exitCode).toBe(0);
    const watch = current.start(["spotlight", "slow", "--watch"]);
    started.push(watch);
    let output = "";
    watch.all?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    await waitFor("the watch", () => output.includes("Watching slow"));
    const followUp = await current.cli(["continue", "slow", "Once more."]);
    expect(output).toContain("synced slow");
    expect(followUp.exitCode, followUp.all).toBe(0);
    expect(followUp.all).not.toContain("the main checkout changed while the agent ran");
    watch.kill("SIGINT");
    await watch;
    expect((await current.cli(["spotlight", "--off"])).exitCode).toBe(0);
  });
});
