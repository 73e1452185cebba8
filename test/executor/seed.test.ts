// workspaces.seed: folders made once per key, cached, and given to every workspace, privately.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import {
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  statSync,
  watch,
} from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { buildSync } from "esbuild";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { tryLockWithHolder } from "../../src/fs/lock-with-holder.js";
import { conductor, startConductor } from "../helpers/cli.js";
import type { TestRepo } from "../helpers/git-repo.js";
import { processesOfRun, repoWithConfig, runIds, tasks, waitFor } from "../helpers/run-repo.js";

let repo: TestRepo | undefined;
const children: ChildProcessWithoutNullStreams[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  await repo?.remove();
  repo = undefined;
});

/** A setup script that fills node_modules from package-lock.json and counts its runs. */
const SETUP =
  'mkdir -p node_modules/pkg node_modules/.bin && cp package-lock.json node_modules/pkg/lock.json && printf "module.exports = 1;\\n" > node_modules/pkg/index.js && printf "one\\ntwo\\n" > node_modules/pkg/data.txt && ln -s ../pkg/index.js node_modules/.bin/pkg && echo "$CONDUCTOR_SEED_KEY" >> "$HOME/setup-runs"';

/** Every file under `dir` with its content (symlinks as `-> target`), sorted. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      const relative = path.relative(dir, full);
      if (entry.isSymbolicLink()) files[relative] = `-> ${readlinkSync(full)}`;
      else if (entry.isDirectory()) walk(full);
      else files[relative] = readFileSync(full, "utf8");
    }
  };
  walk(dir);
  return files;
}

function setupRuns(r: TestRepo): string[] {
  const file = path.join(r.home, "setup-runs");
  return existsSync(file) ? readFileSync(file, "utf8").trim().split("\n") : [];
}

function cacheEntries(r: TestRepo): string[] {
  const dir = path.join(r.home, ".conductor", "cache", "repo");
  return existsSync(dir) ? readdirSync(dir).filter((name) => /^[0-9a-f]{32}$/.test(name)) : [];
}

function cacheFolder(r: TestRepo, key: string): string {
  return path.join(r.home, ".conductor", "cache", "repo", key, "folders", "node_modules");
}

function workspace(r: TestRepo, id: string): string {
  return path.join(r.home, "workspaces", id);
}

/** A repository whose one task seeds node_modules, after a run that filled the cache entry. */
/**
 * Writes and commits another config file beside conductor.yaml: one task, seeding node_modules
 * (in `mode`, or the default) with the tests' setup script.
 */
async function commitSeedConfig(
  r: TestRepo,
  file: string,
  task: string,
  mode?: "hardlink" | "symlink",
): Promise<void> {
  await r.write({
    [file]: stringify({
      version: 1,
      workspaces: {
        dir: path.join(r.home, "workspaces"),
        seed: [mode === undefined ? "node_modules" : { path: "node_modules", mode }],
      },
      scripts: { setup: SETUP },
      agent: { kind: "command", command: "true" },
      tasks: tasks(task),
    }),
  });
  await r.commitAll(`add ${file}`);
}

async function seededAfterOneRun(): Promise<TestRepo> {
  const seeded = await repoWithConfig(
    {
      workspaces: { seed: ["node_modules"] },
      scripts: { setup: SETUP },
      agent: { kind: "command", command: "true" },
      tasks: tasks("one"),
    },
    { "package-lock.json": '{"lockfileVersion":3}\n', ".gitignore": "node_modules/\n" },
  );
  const run = await conductor(["run"], { cwd: seeded.root, home: seeded.home });
  expect(run.exitCode, run.all).toBe(0);
  return seeded;
}

describe("workspaces.seed", () => {
  it("runs the setup script once for three workspaces, seeds each from the cache and skips their setup", async () => {
    repo = await repoWithConfig(
      {
        concurrency: 2,
        // node_modules is deliberately not gitignored: seeded folders must stay out of commits.
        workspaces: { seed: ["node_modules"] },
        scripts: { setup: SETUP },
        agent: {
          kind: "command",
          command: 'echo "seeded=$CONDUCTOR_SEEDED key=$CONDUCTOR_SEED_KEY" > agent-saw.txt',
        },
        tasks: tasks("alpha", "beta", "gamma"),
      },
      { "package-lock.json": '{"lockfileVersion":3}\n' },
    );

    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });

    expect(result.exitCode, result.all).toBe(0);
    expect(setupRuns(repo)).toHaveLength(1);
    const [key] = cacheEntries(repo);
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    expect(setupRuns(repo)).toEqual([key]);
    for (const id of ["alpha", "beta", "gamma"]) {
      const folder = path.join(workspace(repo, id), "node_modules");
      expect(snapshot(folder), id).toEqual(snapshot(cacheFolder(repo, key as string)));
      expect(readFileSync(path.join(folder, "pkg", "lock.json"), "utf8")).toBe(
        '{"lockfileVersion":3}\n',
      );
      expect(lstatSync(path.join(folder, ".bin", "pkg")).isSymbolicLink()).toBe(true);
      expect(readFileSync(path.join(workspace(repo, id), "agent-saw.txt"), "utf8")).toBe(
        `seeded=1 key=${key}\n`,
      );
      expect(result.stdout).toContain(
        `[${id}] seeding node_modules from cache ${key?.slice(0, 10)}…`,
      );
      expect(result.stdout).toContain(`[${id}] setup skipped`);
      const committed = await repo.git("show", "--name-only", "--format=", `conductor/${id}`);
      expect(committed.split("\n")).toEqual(["agent-saw.txt"]);
    }
    expect(result.stdout).toContain("running the seed script once in a fresh checkout");
    // Nothing half-made is left, and the repository has no extra worktree of the fill.
    expect(readdirSync(path.join(repo.home, ".conductor", "cache", "repo", "tmp"))).toEqual([]);
    expect((await repo.git("worktree", "list")).split("\n")).toHaveLength(4);

    const listed = await conductor(["cache", "list"], { cwd: repo.root, home: repo.home });
    expect(listed.exitCode, listed.all).toBe(0);
    expect(listed.stdout).toContain(`${key?.slice(0, 10)}…`);
    expect(listed.stdout).toContain("package-lock.json");
  });

  it.each(["clone", "copy"] as const)(
    "%s mode: a workspace writing, appending, truncating and deleting in its seeded folder changes no other workspace and not the cache",
    async (mode) => {
      repo = await repoWithConfig(
        {
          concurrency: 1,
          workspaces: { seed: [{ path: "node_modules", mode }] },
          scripts: { setup: SETUP },
          agent: {
            kind: "command",
            // The writer goes first (concurrency 1, plan order); the others come after it.
            command:
              'if [ "$CONDUCTOR_TASK_ID" = writer ]; then echo three >> node_modules/pkg/data.txt && printf changed > node_modules/pkg/index.js && : > node_modules/pkg/lock.json && rm node_modules/.bin/pkg && echo new > node_modules/pkg/new.txt && mkdir node_modules/added; fi',
          },
          tasks: tasks("writer", "reader-1", "reader-2"),
        },
        { "package-lock.json": '{"lockfileVersion":3}\n', ".gitignore": "node_modules/\n" },
      );

      const result = await conductor(["run", "--output", "plain"], {
        cwd: repo.root,
        home: repo.home,
      });

      expect(result.exitCode, result.all).toBe(0);
      const [key] = cacheEntries(repo);
      const pristine = {
        ".bin/pkg": "-> ../pkg/index.js",
        "pkg/data.txt": "one\ntwo\n",
        "pkg/index.js": "module.exports = 1;\n",
        "pkg/lock.json": '{"lockfileVersion":3}\n',
      };
      expect(snapshot(cacheFolder(repo, key as string))).toEqual(pristine);
      expect(snapshot(path.join(workspace(repo, "reader-1"), "node_modules"))).toEqual(pristine);
      expect(snapshot(path.join(workspace(repo, "reader-2"), "node_modules"))).toEqual(pristine);
      const written = path.join(workspace(repo, "writer"), "node_modules");
      expect(snapshot(written)).toEqual({
        "pkg/data.txt": "one\ntwo\nthree\n",
        "pkg/index.js": "changed",
        "pkg/lock.json": "",
        "pkg/new.txt": "new\n",
      });
      // Private files: no inode is shared with the cache.
      const inCache = statSync(path.join(cacheFolder(repo, key as string), "pkg", "data.txt"));
      const inReader = statSync(
        path.join(workspace(repo, "reader-1"), "node_modules", "pkg", "data.txt"),
      );
      expect(inReader.ino).not.toBe(inCache.ino);
      expect(inCache.nlink).toBe(1);
    },
  );

  it("hardlink mode keeps added, deleted and replaced files private; an in-place append changes the shared entry, which is filled again before another workspace is seeded from it", async () => {
    repo = await repoWithConfig(
      {
        concurrency: 1,
        workspaces: { seed: [{ path: "node_modules", mode: "hardlink" }] },
        scripts: { setup: SETUP },
        agent: {
          kind: "command",
          command:
            'if [ "$CONDUCTOR_TASK_ID" = writer ]; then rm node_modules/pkg/index.js && echo new > node_modules/pkg/new.txt && printf replaced > node_modules/tmp && mv node_modules/tmp node_modules/pkg/lock.json && echo three >> node_modules/pkg/data.txt; fi',
        },
        tasks: tasks("writer", "reader"),
      },
      { "package-lock.json": '{"lockfileVersion":3}\n', ".gitignore": "node_modules/\n" },
    );

    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });

    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain("node_modules by hard links from cache");
    const writer = snapshot(path.join(workspace(repo, "writer"), "node_modules"));
    expect(writer["pkg/index.js"]).toBeUndefined();
    expect(writer["pkg/new.txt"]).toBe("new\n");
    expect(writer["pkg/lock.json"]).toBe("replaced");
    expect(writer["pkg/data.txt"]).toBe("one\ntwo\nthree\n");
    // The append went into the inode the entry shared; the reader's seed step saw the entry
    // changed since its fill, dropped it and ran the setup again.
    expect(setupRuns(repo)).toHaveLength(2);
    expect(result.stdout.match(/\(filled now\)/g)).toHaveLength(2);
    const [key] = cacheEntries(repo);
    const pristine = {
      ".bin/pkg": "-> ../pkg/index.js",
      "pkg/data.txt": "one\ntwo\n",
      "pkg/index.js": "module.exports = 1;\n",
      "pkg/lock.json": '{"lockfileVersion":3}\n',
    };
    expect(snapshot(cacheFolder(repo, key as string))).toEqual(pristine);
    expect(snapshot(path.join(workspace(repo, "reader"), "node_modules"))).toEqual(pristine);
  });

  it("symlink mode shares writes by design: a later workspace does not evict the entry an earlier one is linked to", async () => {
    repo = await repoWithConfig(
      {
        concurrency: 1,
        workspaces: { seed: [{ path: "node_modules", mode: "symlink" }] },
        scripts: { setup: SETUP },
        agent: {
          kind: "command",
          command:
            'if [ "$CONDUCTOR_TASK_ID" = writer ]; then echo three >> node_modules/pkg/data.txt; fi',
        },
        tasks: tasks("writer", "reader"),
      },
      { "package-lock.json": '{"lockfileVersion":3}\n', ".gitignore": "node_modules\n" },
    );

    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });

    expect(result.exitCode, result.all).toBe(0);
    // One fill: the reader was seeded from the entry the writer wrote into, and the writer's
    // link still leads to it.
    expect(setupRuns(repo)).toHaveLength(1);
    for (const id of ["writer", "reader"]) {
      expect(lstatSync(path.join(workspace(repo, id), "node_modules")).isSymbolicLink()).toBe(true);
      expect(
        readFileSync(path.join(workspace(repo, id), "node_modules", "pkg", "data.txt"), "utf8"),
      ).toBe("one\ntwo\nthree\n");
    }
  });

  it("a workspace whose branch changed the lockfile runs the setup for its own key", async () => {
    repo = await repoWithConfig(
      {
        concurrency: 1,
        workspaces: { seed: { folders: ["node_modules"], key: ["package-lock.json"] } },
        scripts: { setup: SETUP },
        agent: {
          kind: "command",
          command:
            'if [ "$CONDUCTOR_TASK_ID" = bump ]; then echo \'{"lockfileVersion":3,"bumped":true}\' > package-lock.json; fi',
        },
        tasks: [...tasks("bump", "plain"), { id: "after", prompt: "go on", depends_on: ["bump"] }],
      },
      { "package-lock.json": '{"lockfileVersion":3}\n', ".gitignore": "node_modules/\n" },
    );

    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });

    expect(result.exitCode, result.all).toBe(0);
    expect(cacheEntries(repo)).toHaveLength(2);
    expect(setupRuns(repo)).toHaveLength(2);
    expect(new Set(setupRuns(repo))).toEqual(new Set(cacheEntries(repo)));
    const lockIn = (id: string) =>
      readFileSync(
        path.join(workspace(repo as TestRepo, id), "node_modules", "pkg", "lock.json"),
        "utf8",
      );
    expect(lockIn("plain")).toBe('{"lockfileVersion":3}\n');
    expect(lockIn("after")).toBe('{"lockfileVersion":3,"bumped":true}\n');
    // The bump workspace keeps the folder it was seeded with; its agent changed only the lockfile.
    expect(lockIn("bump")).toBe('{"lockfileVersion":3}\n');
  });

  it("two concurrent runs needing one key run the seed script once: the second waits for the first's fill", async () => {
    repo = await repoWithConfig(
      { tasks: tasks("unused") },
      { "package-lock.json": '{"lockfileVersion":3}\n', ".gitignore": "node_modules/\n" },
    );
    const home = repo.home;
    const config = (ids: string[]) => ({
      version: 1,
      workspaces: { dir: path.join(home, "workspaces"), seed: ["node_modules"] },
      // The fill holds until the test has seen the second run wait for it.
      scripts: {
        setup: `touch "$HOME/fill-started" && while [ ! -f "$HOME/release" ]; do sleep 0.05; done && ${SETUP}`,
      },
      agent: { kind: "command", command: "true" },
      tasks: tasks(...ids),
    });
    await repo.write({
      "a.yaml": stringify(config(["a-1", "a-2"])),
      "b.yaml": stringify(config(["b-1", "b-2"])),
    });
    await repo.commitAll("two configs");

    const a = startConductor(["run", "-c", "a.yaml", "--output", "plain"], {
      cwd: repo.root,
      home,
    });
    await waitFor(() => existsSync(path.join(home, "fill-started")), 30_000, "the first fill");
    const b = startConductor(["run", "-c", "b.yaml", "--output", "plain"], {
      cwd: repo.root,
      home,
    });
    let bOutput = "";
    b.stdout?.on("data", (chunk: Buffer) => {
      bOutput += chunk.toString();
    });
    await waitFor(
      () => bOutput.includes("seed: waiting for cache"),
      30_000,
      "the second run to wait",
    );
    await writeFile(path.join(home, "release"), "");
    const [aResult, bResult] = await Promise.all([a, b]);

    expect(aResult.exitCode, aResult.all).toBe(0);
    expect(bResult.exitCode, bResult.all).toBe(0);
    expect(setupRuns(repo)).toHaveLength(1);
    expect(cacheEntries(repo)).toHaveLength(1);
    expect(aResult.stdout.match(/\(filled now\)/g)).toHaveLength(1);
    expect(bResult.stdout).not.toContain("(filled now)");
    for (const id of ["a-1", "a-2", "b-1", "b-2"])
      expect(
        readFileSync(path.join(workspace(repo, id), "node_modules", "pkg", "data.txt"), "utf8"),
      ).toBe("one\ntwo\n");
    expect(readdirSync(path.join(home, ".conductor", "cache", "repo", "tmp"))).toEqual([]);
  });

  it("a conductor killed while filling leaves no entry, and the resumed run fills the key whole", async () => {
    repo = await repoWithConfig(
      {
        workspaces: { seed: ["node_modules"] },
        scripts: {
          setup:
            'mkdir -p node_modules && echo half > node_modules/half && if [ -f "$HOME/hang" ]; then touch "$HOME/filling" && sleep 600; fi; echo whole > node_modules/whole',
        },
        agent: { kind: "command", command: "true" },
        tasks: tasks("only"),
      },
      { "package-lock.json": '{"lockfileVersion":3}\n', ".gitignore": "node_modules/\n" },
    );
    await writeFile(path.join(repo.home, "hang"), "");
    const child = startConductor(["run", "--output", "plain"], { cwd: repo.root, home: repo.home });
    await waitFor(
      () => existsSync(path.join((repo as TestRepo).home, "filling")),
      30_000,
      "the fill",
    );
    child.kill("SIGKILL");
    await child;
    const [runId] = runIds(repo.root);
    // The seed script outlives its killed conductor; it may go on writing into its temporary folder.
    expect(processesOfRun(runId as string).length).toBeGreaterThan(0);
    expect(cacheEntries(repo)).toEqual([]);
    const tmp = path.join(repo.home, ".conductor", "cache", "repo", "tmp");
    expect(readdirSync(tmp)).toHaveLength(1); // the killed fill's half-made folder
    // Its lock stays, naming the killed conductor: taken over at once, not waited out.
    const cacheDir = path.dirname(tmp);
    expect(readdirSync(cacheDir).filter((name) => name.endsWith(".lock"))).toHaveLength(1);

    await rm(path.join(repo.home, "hang"));
    const resumed = await conductor(["run", "--resume", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });

    expect(resumed.exitCode, resumed.all).toBe(0);
    const [key] = cacheEntries(repo);
    expect(snapshot(cacheFolder(repo, key as string))).toEqual({
      half: "half\n",
      whole: "whole\n",
    });
    expect(snapshot(path.join(workspace(repo, "only"), "node_modules"))).toEqual({
      half: "half\n",
      whole: "whole\n",
    });
    expect(readdirSync(tmp)).toEqual([]);
    expect(processesOfRun(runId as string)).toEqual([]);
    const phases = readFileSync(
      path.join(repo.root, ".conductor", "runs", runId as string, "events.jsonl"),
      "utf8",
    )
      .split("\n")
      .filter((line) => line.includes('"seed.phase"'))
      .map((line) => JSON.parse(line).phase);
    expect(phases).toEqual(["populating", "populating", "placing"]);
    expect(readdirSync(cacheDir).filter((name) => name.endsWith(".lock"))).toEqual([]);
  });

  it("cache clean removes the repository's entries; a later run fills the key again", async () => {
    repo = await seededAfterOneRun();
    expect(cacheEntries(repo)).toHaveLength(1);

    const cleaned = await conductor(["cache", "clean"], { cwd: repo.root, home: repo.home });

    expect(cleaned.exitCode, cleaned.all).toBe(0);
    expect(cleaned.stdout).toMatch(/^conductor: removed 1 entry from .*\.conductor\/cache \(/);
    expect(cacheEntries(repo)).toEqual([]);
    // The workspace keeps its copy.
    expect(existsSync(path.join(workspace(repo, "one"), "node_modules", "pkg", "data.txt"))).toBe(
      true,
    );
    const listed = await conductor(["cache", "list"], { cwd: repo.root, home: repo.home });
    expect(listed.stdout).toMatch(/^conductor: no cache entries in /);
  });
});

describe("cache clean --key", () => {
  it("takes the key as cache list prints it; an empty, malformed or unknown key exits 2 and removes nothing", async () => {
    repo = await seededAfterOneRun();
    const [key] = cacheEntries(repo);
    const r = repo;
    const clean = (prefix: string) =>
      conductor(["cache", "clean", "--key", prefix], { cwd: r.root, home: r.home });

    for (const bad of ["", "zzz", "0000000000"]) {
      const refused = await clean(bad);
      expect(refused.exitCode, refused.all).toBe(2);
      expect(refused.stderr).toContain("`conductor cache list`");
      expect(cacheEntries(repo)).toEqual([key]);
    }

    const listed = await conductor(["cache", "list"], { cwd: repo.root, home: repo.home });
    const shown = listed.stdout.match(/\b[0-9a-f]{10}…/)?.[0];
    expect(shown, listed.stdout).toBe(`${key?.slice(0, 10)}…`);
    const cleaned = await clean(shown as string);
    expect(cleaned.exitCode, cleaned.all).toBe(0);
    expect(cleaned.stdout).toContain("removed 1 entry");
    expect(cacheEntries(repo)).toEqual([]);
  });
});

describe("cache outside a repository", () => {
  it("cache list names the --all that works there, and that command, pasted, lists the entries", async () => {
    repo = await seededAfterOneRun();
    const [key] = cacheEntries(repo);
    const outside = { cwd: repo.home, home: repo.home };

    const listed = await conductor(["cache", "list"], outside);
    expect(listed.exitCode, listed.all).toBe(2);
    const hint = listed.stderr.match(/`conductor (cache list --all)`/)?.[1];
    expect(hint, listed.stderr).toBe("cache list --all");
    const pasted = await conductor((hint as string).split(" "), outside);
    expect(pasted.exitCode, pasted.all).toBe(0);
    expect(pasted.stdout).toContain(`${key?.slice(0, 10)}…`);

    const cleaned = await conductor(["cache", "clean"], outside);
    expect(cleaned.exitCode, cleaned.all).toBe(2);
    expect(cleaned.stderr).toContain("pass --all to remove every repository's");
    expect(cacheEntries(repo)).toEqual([key]);
  });
});

describe("a damaged cache entry", () => {
  it.each([
    ["its seed.json unreadable", (dir: string) => writeFile(path.join(dir, "seed.json"), "{trunc")],
    [
      "its seeded folder gone",
      (dir: string) => rm(path.join(dir, "folders", "node_modules"), { recursive: true }),
    ],
    ["no seed.json at all", (dir: string) => rm(path.join(dir, "seed.json"))],
  ])("%s: the next run fills the key again and succeeds", async (what, damage) => {
    repo = await seededAfterOneRun();
    const [key] = cacheEntries(repo);
    await damage(path.join(repo.home, ".conductor", "cache", "repo", key as string));
    if (what !== "its seeded folder gone") {
      const listed = await conductor(["cache", "list", "--json"], {
        cwd: repo.root,
        home: repo.home,
      });
      expect(JSON.parse(listed.stdout)).toMatchObject([{ key, manifest: null }]);
    }

    const again = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });

    expect(again.exitCode, again.all).toBe(0);
    expect(setupRuns(repo)).toEqual([key, key]);
    expect(cacheEntries(repo)).toEqual([key]);
    expect(snapshot(path.join(workspace(repo, "one"), "node_modules"))).toEqual(
      snapshot(cacheFolder(repo, key as string)),
    );
    expect(readdirSync(path.join(repo.home, ".conductor", "cache", "repo", "tmp"))).toEqual([]);
  });
});

describe("workspaces.seed with npm", () => {
  it.each(["clone", "hardlink"] as const)(
    "%s mode: npm install of a new package in one workspace changes no other workspace and not the cache",
    async (mode) => {
      repo = await repoWithConfig({ tasks: tasks("unused") }, { ".gitignore": "node_modules/\n" });
      const r = repo;
      await mkdir(path.join(r.root, "vendor"));
      // Two local packages as tarballs: npm installs them with no registry at all.
      for (const name of ["dep", "left-pad"]) {
        await r.write({
          [`pkgs/${name}/package.json`]: JSON.stringify({
            name,
            version: "1.0.0",
            main: "index.js",
          }),
          [`pkgs/${name}/index.js`]: `module.exports = "${name}";\n`,
        });
        await execa("npm", ["pack", "--silent", "--pack-destination", "../../vendor"], {
          cwd: path.join(r.root, "pkgs", name),
          env: { HOME: r.home },
        });
      }
      const npm = "--offline --no-audit --no-fund --loglevel=error";
      await r.write({
        "package.json": JSON.stringify({
          name: "app",
          version: "1.0.0",
          dependencies: { dep: "file:vendor/dep-1.0.0.tgz" },
        }),
      });
      await execa("sh", ["-c", `npm install ${npm} --package-lock-only`], {
        cwd: r.root,
        env: { HOME: r.home },
      });
      await r.write({
        "conductor.yaml": stringify({
          version: 1,
          concurrency: 1,
          workspaces: {
            dir: path.join(r.home, "workspaces"),
            seed: [{ path: "node_modules", mode }],
          },
          scripts: { setup: `npm ci ${npm}` },
          agent: {
            kind: "command",
            command: `if [ "$CONDUCTOR_TASK_ID" = installer ]; then npm install ${npm} ./vendor/left-pad-1.0.0.tgz; fi`,
          },
          tasks: tasks("installer", "reader"),
        }),
      });
      await r.commitAll("an npm project");

      const result = await conductor(["run", "--output", "plain"], { cwd: r.root, home: r.home });

      expect(result.exitCode, result.all).toBe(0);
      const [key] = cacheEntries(r);
      const cached = snapshot(cacheFolder(r, key as string));
      expect(Object.keys(cached).filter((file) => !file.startsWith("."))).toEqual([
        "dep/index.js",
        "dep/package.json",
      ]);
      expect(snapshot(path.join(workspace(r, "reader"), "node_modules"))).toEqual(cached);
      const installed = snapshot(path.join(workspace(r, "installer"), "node_modules"));
      expect(installed["left-pad/index.js"]).toBe('module.exports = "left-pad";\n');
      expect(installed["dep/index.js"]).toBe('module.exports = "dep";\n');
      expect(installed[".package-lock.json"]).toContain("left-pad");
    },
  );
});

/**
 * A program that marks a cache entry in use through the seed step's own code (holdEntry), as a
 * conductor placing from it does: says "held" (and keeps it until a line arrives on stdin, then
 * says "released") or "refused".
 */
const HOLD_PROGRAM = `
import { holdEntry } from "./in-use.ts";
const [repoDir, key] = process.argv.slice(2);
const release = await holdEntry(repoDir, key);
process.stdout.write(release === undefined ? "refused\\n" : "held\\n");
if (release === undefined) process.exit(0);
process.stdin.once("data", async () => {
  await release();
  process.stdout.write("released\\n");
  process.exit(0);
});
`;

/** Another process placing from the entry of `key` (see HOLD_PROGRAM). */
function holder(r: TestRepo, key: string) {
  const program = path.join(r.home, "hold-entry.mjs");
  if (!existsSync(program))
    buildSync({
      stdin: {
        contents: HOLD_PROGRAM,
        resolveDir: path.resolve("src/executor/seed"),
        loader: "ts",
      },
      bundle: true,
      platform: "node",
      format: "esm",
      // proper-lockfile is CommonJS and requires node's modules.
      banner: {
        js: 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);',
      },
      outfile: program,
      logLevel: "silent",
    });
  const child = spawn(process.execPath, [program, cacheDir(r), key]);
  children.push(child);
  let output = "";
  child.stdout.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr.on("data", (chunk) => {
    output += chunk;
  });
  const exited = new Promise((resolve) => child.once("close", resolve));
  const said = (word: string) => waitFor(() => output.includes(`${word}\n`), 30_000, word);
  return { child, said, exited, output: () => output };
}

function cacheDir(r: TestRepo): string {
  return path.join(r.home, ".conductor", "cache", "repo");
}

function marks(r: TestRepo): string[] {
  return readdirSync(cacheDir(r)).filter((name) => name.includes(".in-use."));
}

describe("cache clean and entries in use", () => {
  it("keeps an entry another process is placing from, naming it (exit 1); the clean of its hint removes it once the placement is done", async () => {
    repo = await seededAfterOneRun();
    const [key] = cacheEntries(repo);
    const placing = holder(repo, key as string);
    await placing.said("held");

    const refused = await conductor(["cache", "clean"], { cwd: repo.root, home: repo.home });

    expect(refused.exitCode, refused.all).toBe(1);
    expect(refused.stdout).toContain("removed 0 entries");
    expect(refused.stderr).toContain(
      `repo/${key?.slice(0, 10)}…: conductor process ${placing.child.pid} is placing its folders into a workspace`,
    );
    expect(cacheEntries(repo)).toEqual([key]);
    expect(existsSync(path.join(cacheFolder(repo, key as string), "pkg", "data.txt"))).toBe(true);

    placing.child.stdin.write("\n");
    await placing.said("released");
    expect(marks(repo)).toEqual([]);
    const again = refused.stderr.match(/Run `conductor (cache clean)` again/)?.[1];
    expect(again, refused.stderr).toBe("cache clean");
    const cleaned = await conductor((again as string).split(" "), {
      cwd: repo.root,
      home: repo.home,
    });
    expect(cleaned.exitCode, cleaned.all).toBe(0);
    expect(cleaned.stdout).toContain("removed 1 entry");
    expect(cacheEntries(repo)).toEqual([]);
  });

  it("a mark left by a placing process killed with SIGKILL keeps nothing, and is removed with the entry", async () => {
    repo = await seededAfterOneRun();
    const [key] = cacheEntries(repo);
    const placing = holder(repo, key as string);
    await placing.said("held");
    placing.child.kill("SIGKILL");
    await placing.exited;
    expect(marks(repo)).toHaveLength(1);

    const cleaned = await conductor(["cache", "clean"], { cwd: repo.root, home: repo.home });

    expect(cleaned.exitCode, cleaned.all).toBe(0);
    expect(cacheEntries(repo)).toEqual([]);
    expect(marks(repo)).toEqual([]);
  });

  it("a mark of a process conductor cannot see (another container) keeps the entry; the rm of the hint lets the clean go on", async () => {
    repo = await seededAfterOneRun();
    const [key] = cacheEntries(repo);
    const mark = path.join(cacheDir(repo), `${key}.in-use.4321.0a1b2c3d`);
    await writeFile(mark, JSON.stringify({ pid: 4321, start: "99", space: "another container" }));

    const refused = await conductor(["cache", "clean", "--key", (key as string).slice(0, 10)], {
      cwd: repo.root,
      home: repo.home,
    });

    expect(refused.exitCode, refused.all).toBe(1);
    expect(refused.stderr).toContain(
      `process 4321 of another machine or container marked it in use (${mark})`,
    );
    expect(cacheEntries(repo)).toEqual([key]);
    const [, removal, again] =
      refused.stderr.match(/\(`(rm -- [^`]+)`\) and run `conductor ([^`]+)` again/) ?? [];
    expect(removal, refused.stderr).toBeDefined();
    await execa("sh", ["-c", removal as string]);
    const cleaned = await conductor((again as string).split(" "), {
      cwd: repo.root,
      home: repo.home,
    });
    expect(cleaned.exitCode, cleaned.all).toBe(0);
    expect(cacheEntries(repo)).toEqual([]);
  });

  it("an entry whose lock another conductor keeps (filling the key anew) is kept after a wait, naming the lock", async () => {
    repo = await seededAfterOneRun();
    const [key] = cacheEntries(repo);
    const entry = path.join(cacheDir(repo), key as string);
    const release = await tryLockWithHolder(entry, { stale: 5_000, onCompromised: () => {} });

    const refused = await conductor(["cache", "clean"], { cwd: repo.root, home: repo.home });
    await release?.();

    expect(refused.exitCode, refused.all).toBe(1);
    expect(refused.stderr).toContain(`another conductor holds its lock ${entry}.lock`);
    expect(refused.stderr).toContain(
      "Run `conductor cache clean` again once that conductor is done.",
    );
    expect(cacheEntries(repo)).toEqual([key]);
    const cleaned = await conductor(["cache", "clean"], { cwd: repo.root, home: repo.home });
    expect(cleaned.exitCode, cleaned.all).toBe(0);
    expect(cacheEntries(repo)).toEqual([]);
  });

  it("a placement that marks the entry while a clean holds the key's lock is refused, and goes ahead once it is released", async () => {
    repo = await seededAfterOneRun();
    const [key] = cacheEntries(repo);
    // What cache clean holds while it reads the marks and removes the entry.
    const release = await tryLockWithHolder(path.join(cacheDir(repo), key as string), {
      stale: 5_000,
      onCompromised: () => {},
    });
    expect(release).toBeDefined();

    const during = holder(repo, key as string);
    await during.said("refused");
    await release?.();
    const after = holder(repo, key as string);
    await after.said("held");
    after.child.stdin.write("\n");
    await after.said("released");
    // And once the entry is gone, there is nothing to place from.
    await rm(path.join(cacheDir(repo), key as string), { recursive: true });
    await holder(repo, key as string).said("refused");
    expect(marks(repo)).toEqual([]);
  });

  it("a run whose entry a clean removes while the run is about to place from it fills the key again and succeeds", async () => {
    repo = await seededAfterOneRun();
    const [key] = cacheEntries(repo);
    await commitSeedConfig(repo, "b.yaml", "two");
    const entry = path.join(cacheDir(repo), key as string);
    const release = await tryLockWithHolder(entry, { stale: 5_000, onCompromised: () => {} });
    // The run's placement marks the entry, finds the lock held and tries again: the clean goes on.
    let marked = false;
    const watcher = watch(cacheDir(repo), (_event, name) => {
      if (name?.includes(".in-use.")) marked = true;
    });
    const run = startConductor(["run", "-c", "b.yaml", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    try {
      await waitFor(() => marked, 30_000, "the run's placement to mark the entry");
    } finally {
      watcher.close();
    }
    renameSync(entry, path.join(repo.home, "removed-entry"));
    await release?.();
    const result = await run;

    expect(result.exitCode, result.all).toBe(0);
    expect(setupRuns(repo)).toEqual([key, key]);
    expect(result.stdout).toContain("(filled now)");
    expect(snapshot(path.join(workspace(repo, "two"), "node_modules"))).toEqual(
      snapshot(cacheFolder(repo, key as string)),
    );
  });

  it("a run that finds its hard-linked entry written in place replaces it only once another process has ended its placement from it", async () => {
    repo = await repoWithConfig(
      {
        workspaces: { seed: [{ path: "node_modules", mode: "hardlink" }] },
        scripts: { setup: SETUP },
        agent: { kind: "command", command: "true" },
        tasks: tasks("one"),
      },
      { "package-lock.json": '{"lockfileVersion":3}\n', ".gitignore": "node_modules/\n" },
    );
    const first = await conductor(["run"], { cwd: repo.root, home: repo.home });
    expect(first.exitCode, first.all).toBe(0);
    const [key] = cacheEntries(repo);
    const entry = path.join(cacheDir(repo), key as string);
    // A workspace's in-place append reached the entry: the next run's seed step replaces it.
    await writeFile(path.join(cacheFolder(repo, key as string), "pkg", "data.txt"), "three\n", {
      flag: "a",
    });
    await commitSeedConfig(repo, "b.yaml", "two", "hardlink");
    const placing = holder(repo, key as string);
    await placing.said("held");

    const run = startConductor(["run", "-c", "b.yaml", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    await waitFor(() => existsSync(`${entry}.lock`), 30_000, "the run to take the key's lock");
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    // Still the entry the other process places from, whole.
    expect(
      readFileSync(path.join(cacheFolder(repo, key as string), "pkg", "data.txt"), "utf8"),
    ).toBe("one\ntwo\nthree\n");
    expect(run.exitCode).toBeNull();
    placing.child.stdin.write("\n");
    await placing.said("released");
    const result = await run;

    expect(result.exitCode, result.all).toBe(0);
    expect(setupRuns(repo)).toEqual([key, key]);
    expect(snapshot(path.join(workspace(repo, "two"), "node_modules"))["pkg/data.txt"]).toBe(
      "one\ntwo\n",
    );
  });

  it("a run checking its hard-linked entry for in-place writes when a clean removes it fills the key again", async () => {
    // Enough files that the check (an lstat of each, a second or so) is under way when the test
    // stops the run a moment after its seed step started, and not over. Hard links of one file:
    // making 20,000 files takes seconds on some filesystems, linking them a fraction of one.
    const setup =
      'node -e \'fs.mkdirSync("node_modules"); fs.writeFileSync("node_modules/0", ""); for (let d = 1; d <= 200; d++) { fs.mkdirSync("node_modules/d" + d); for (let f = 1; f <= 100; f++) fs.linkSync("node_modules/0", "node_modules/d" + d + "/" + f); }\' && echo "$CONDUCTOR_SEED_KEY" >> "$HOME/setup-runs"';
    const config = (id: string) => ({
      version: 1,
      workspaces: {
        dir: path.join((repo as TestRepo).home, "workspaces"),
        seed: [{ path: "node_modules", mode: "hardlink" }],
      },
      scripts: { setup },
      agent: { kind: "command", command: "true" },
      tasks: tasks(id),
    });
    repo = await repoWithConfig(
      { tasks: tasks("unused") },
      { "package-lock.json": '{"lockfileVersion":3}\n', ".gitignore": "node_modules/\n" },
    );
    await repo.write({ "a.yaml": stringify(config("one")), "b.yaml": stringify(config("two")) });
    await repo.commitAll("two configs");
    const first = await conductor(["run", "-c", "a.yaml"], { cwd: repo.root, home: repo.home });
    expect(first.exitCode, first.all).toBe(0);
    const [key] = cacheEntries(repo);

    // A new process checks the entry before its first placement from it: stopped there.
    const run = startConductor(["run", "-c", "b.yaml", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    let output = "";
    run.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    await waitFor(() => output.includes("[two] seed started"), 30_000, "the seed step to start");
    await new Promise((resolve) => setTimeout(resolve, 150));
    run.kill("SIGSTOP");
    const cleaned = await conductor(["cache", "clean"], { cwd: repo.root, home: repo.home });
    run.kill("SIGCONT");
    const result = await run;

    expect(cleaned.exitCode, cleaned.all).toBe(0);
    expect(result.exitCode, result.all).toBe(0);
    expect(setupRuns(repo)).toEqual([key, key]);
    expect(Object.keys(snapshot(path.join(workspace(repo, "two"), "node_modules")))).toHaveLength(
      20_001,
    );
  });

  it("a conductor stopped while placing keeps its entry from a clean, and its workspace gets the folder whole", async () => {
    // Enough files that placing them by copy lasts well beyond the test's stop of the conductor.
    const setup =
      "mkdir -p node_modules && cd node_modules && for d in $(seq 1 40); do mkdir d$d && (cd d$d && seq 1 100 | xargs touch); done";
    repo = await repoWithConfig(
      {
        workspaces: { seed: [{ path: "node_modules", mode: "copy" }] },
        scripts: { setup },
        agent: { kind: "command", command: "true" },
        tasks: tasks("one"),
      },
      { "package-lock.json": '{"lockfileVersion":3}\n', ".gitignore": "node_modules/\n" },
    );
    const run = startConductor(["run", "--output", "plain"], { cwd: repo.root, home: repo.home });
    let output = "";
    let stopped = false;
    run.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (stopped || !output.includes("seeding node_modules from cache")) return;
      stopped = run.kill("SIGSTOP");
    });
    await waitFor(() => stopped, 30_000, "the conductor to place");
    const placedSoFar = existsSync(path.join(workspace(repo, "one"), "node_modules"))
      ? Object.keys(snapshot(path.join(workspace(repo, "one"), "node_modules"))).length
      : 0;
    expect(placedSoFar, "files placed when the conductor was stopped").toBeLessThan(4000);

    const cleaned = await conductor(["cache", "clean"], { cwd: repo.root, home: repo.home });
    run.kill("SIGCONT");
    const result = await run;

    expect(cleaned.exitCode, cleaned.all).toBe(1);
    expect(cleaned.stderr).toContain(`conductor process ${run.pid} is placing`);
    expect(result.exitCode, result.all).toBe(0);
    const [key] = cacheEntries(repo);
    expect(snapshot(path.join(workspace(repo, "one"), "node_modules"))).toEqual(
      snapshot(cacheFolder(repo, key as string)),
    );
    expect(Object.keys(snapshot(cacheFolder(repo, key as string)))).toHaveLength(4000);
  });
});

describe("cache clean and workspaces linked to an entry (mode: symlink)", () => {
  /** A repository whose two tasks' node_modules link into the cache entry a run filled. */
  async function linkedAfterOneRun(): Promise<TestRepo> {
    const linked = await repoWithConfig(
      {
        workspaces: { seed: [{ path: "node_modules", mode: "symlink" }] },
        scripts: { setup: SETUP },
        agent: { kind: "command", command: "true" },
        tasks: tasks("one", "two"),
      },
      // No trailing slash: the workspace's node_modules is a link, not a folder.
      { "package-lock.json": '{"lockfileVersion":3}\n', ".gitignore": "node_modules\n" },
    );
    const run = await conductor(["run"], { cwd: linked.root, home: linked.home });
    expect(run.exitCode, run.all).toBe(0);
    return linked;
  }

  it("refuses to remove an entry workspaces link to, naming their folders (exit 1); an archived workspace no longer keeps it", async () => {
    repo = await linkedAfterOneRun();
    const [key] = cacheEntries(repo);
    const links = ["one", "two"].map((id) =>
      path.join(workspace(repo as TestRepo, id), "node_modules"),
    );

    const refused = await conductor(["cache", "clean"], { cwd: repo.root, home: repo.home });

    expect(refused.exitCode, refused.all).toBe(1);
    expect(refused.stderr).toContain(
      `repo/${key?.slice(0, 10)}…: workspace folders link to it (mode: symlink): ${links.join(", ")}`,
    );
    expect(refused.stderr).toContain("`conductor cache clean --force`");
    expect(cacheEntries(repo)).toEqual([key]);
    for (const link of links)
      expect(readFileSync(path.join(link, "pkg", "data.txt"), "utf8")).toBe("one\ntwo\n");

    const archived = await conductor(["archive", "--all"], { cwd: repo.root, home: repo.home });
    expect(archived.exitCode, archived.all).toBe(0);
    const cleaned = await conductor(["cache", "clean"], { cwd: repo.root, home: repo.home });
    expect(cleaned.exitCode, cleaned.all).toBe(0);
    expect(cleaned.stdout).toContain("removed 1 entry");
    expect(cleaned.stderr).toBe("");
    expect(cacheEntries(repo)).toEqual([]);
  });

  it("--force, pasted from the hint, removes it and names the links left leading nowhere; a run that needs the key again puts them back", async () => {
    repo = await linkedAfterOneRun();
    const [key] = cacheEntries(repo);
    const link = path.join(workspace(repo, "one"), "node_modules");
    const refused = await conductor(["cache", "clean", "--key", (key as string).slice(0, 10)], {
      cwd: repo.root,
      home: repo.home,
    });
    const forced = refused.stderr.match(/run `conductor (cache clean [^`]*--force)`/)?.[1];
    expect(forced, refused.stderr).toBe(`cache clean --key ${key?.slice(0, 10)} --force`);

    const cleaned = await conductor((forced as string).split(" "), {
      cwd: repo.root,
      home: repo.home,
    });

    expect(cleaned.exitCode, cleaned.all).toBe(0);
    expect(cleaned.stdout).toContain("removed 1 entry");
    expect(cleaned.stderr).toContain("lead nowhere until a run fills that key again");
    expect(cleaned.stderr).toContain(`  ${link}\n`);
    expect(cacheEntries(repo)).toEqual([]);
    expect(existsSync(link)).toBe(false);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);

    await commitSeedConfig(repo, "again.yaml", "three", "symlink");
    const again = await conductor(["run", "-c", "again.yaml"], { cwd: repo.root, home: repo.home });
    expect(again.exitCode, again.all).toBe(0);
    expect(cacheEntries(repo)).toEqual([key]);
    expect(readFileSync(path.join(link, "pkg", "data.txt"), "utf8")).toBe("one\ntwo\n");
  });
});
