// Using conductor in your own repository, as the README tells it: `npm pack` this project, install
// the tarball as a dev dependency of a fresh project, and run `npx conductor` there. Offline: the
// dependencies come from the npm cache that `npm ci` of this project filled.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { WrittenConfig } from "../../src/schema/written.js";
import { createTestRepo, gitEnv, type TestRepo } from "../helpers/git-repo.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const MANIFEST = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  name: string;
  version: string;
};
const TARBALL = `${MANIFEST.name}-${MANIFEST.version}.tgz`;

/** npm without prompts, notices or network: everything must come from the cache. */
const NPM_ENV = {
  npm_config_offline: "true",
  npm_config_audit: "false",
  npm_config_fund: "false",
  npm_config_update_notifier: "false",
};

interface LockEntry {
  dev?: boolean;
  devOptional?: boolean;
  optional?: boolean;
  [key: string]: unknown;
}

/**
 * The lockfile npm would write for a project with the tarball as its one dev dependency: the
 * tarball itself, plus this project's own non-dev packages, which are exactly the tarball's
 * dependency tree. npm ci caches package tarballs but not the registry's package documents, and
 * without a lockfile `npm install` needs those documents to resolve `^x.y` ranges, even with
 * --offline; with this lockfile it needs nothing but the cached tarballs.
 */
function lockfileFor(project: string, tarball: Buffer): object {
  const ours = JSON.parse(readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as {
    packages: Record<string, LockEntry>;
  };
  const root = ours.packages[""] as LockEntry;
  const packages: Record<string, LockEntry> = {
    "": {
      name: project,
      version: "1.0.0",
      devDependencies: { [MANIFEST.name]: `file:${TARBALL}` },
    },
    [`node_modules/${MANIFEST.name}`]: {
      version: MANIFEST.version,
      resolved: `file:${TARBALL}`,
      integrity: `sha512-${createHash("sha512").update(tarball).digest("base64")}`,
      dev: true,
      dependencies: root.dependencies,
      bin: root.bin,
      engines: root.engines,
    },
  };
  for (const [where, entry] of Object.entries(ours.packages)) {
    if (where === "" || entry.dev === true) continue;
    // Everything sits below a dev dependency now; what was optional stays optional.
    const { devOptional: _devOptional, optional, ...rest } = entry;
    packages[where] = optional ? { ...rest, dev: true, optional: true } : { ...rest, dev: true };
  }
  return { name: project, version: "1.0.0", lockfileVersion: 3, requires: true, packages };
}

let packDir: string;
/** Where `npm ci` of this project put the packages; the project's npm must use the same cache. */
let npmCache: string;
let project: TestRepo;

beforeAll(async () => {
  npmCache = (
    await execa("npm", ["config", "get", "cache"], { cwd: ROOT, env: NPM_ENV })
  ).stdout.trim();
  packDir = await mkdtemp(path.join(os.tmpdir(), "conductor-pack-"));
  // A run leaves V8's code cache of the run bundle beside it (src/cli/code-cache.ts): made for
  // this machine's Node, it must stay out of the tarball.
  await execa("node", [path.join(ROOT, "dist", "bin", "conductor.js"), "run", "--help"]);
  // dist/ is already built (the tests' global setup); --ignore-scripts skips building it again.
  await execa("npm", ["pack", "--ignore-scripts", "--pack-destination", packDir], {
    cwd: ROOT,
    env: NPM_ENV,
  });
  project = await createTestRepo({
    "README.md": "# my project\n",
    ".gitignore": "node_modules/\n.env.local\n",
    "package.json": `${JSON.stringify(
      {
        name: "my-project",
        version: "1.0.0",
        private: true,
        scripts: { test: "node --test" },
        devDependencies: { [MANIFEST.name]: `file:${TARBALL}` },
      },
      null,
      2,
    )}\n`,
  });
  const tarball = await readFile(path.join(packDir, TARBALL));
  await copyFile(path.join(packDir, TARBALL), path.join(project.root, TARBALL));
  await writeFile(
    path.join(project.root, "package-lock.json"),
    `${JSON.stringify(lockfileFor("my-project", tarball), null, 2)}\n`,
  );
  await writeFile(path.join(project.root, ".env.local"), "API_URL=http://localhost:3000\n");
  await project.commitAll("a project that uses conductor");
  // The tarball installs like any dependency; stdout/stderr are in the error if it does not.
  await execa("npm", ["install"], { cwd: project.root, env: NPM_ENV });
}, 180_000);

afterAll(async () => {
  await project?.remove();
  if (packDir) await rm(packDir, { recursive: true, force: true });
});

/** A command line run as a user types it, in the project, with a private home. */
function shell(line: string) {
  return execa("sh", ["-c", line], {
    cwd: project.root,
    reject: false,
    // Keep npm's cache (where npm ci put the packages) while conductor and git see a fresh home.
    env: { ...gitEnv(project.home), ...NPM_ENV, npm_config_cache: npmCache },
  });
}

describe("a packed conductor installed as a dev dependency of another project", () => {
  it("ships the CLI, the JSON Schema and the reference docs in the tarball", () => {
    const installed = path.join(project.root, "node_modules", MANIFEST.name);
    for (const file of [
      "bin/conductor",
      "dist/bin/conductor.js",
      "schema/conductor.schema.json",
      "conductor.yaml.example",
      "README.md",
      "docs/config.md",
      "assets/ui/index.html",
      "assets/ui/app.js",
    ]) {
      expect(existsSync(path.join(installed, file)), file).toBe(true);
    }
    const cache = path.join("dist", "run", "run-program.cjs.v8-cache");
    expect(existsSync(path.join(ROOT, cache))).toBe(true);
    expect(existsSync(path.join(installed, cache))).toBe(false);
    // The review page's diff renderer is a dependency, installed beside conductor.
    expect(
      existsSync(
        path.join(
          project.root,
          "node_modules",
          "diff2html",
          "bundles",
          "js",
          "diff2html-ui-slim.min.js",
        ),
      ),
    ).toBe(true);
  });

  it("`npx conductor --version` runs the installed conductor", async () => {
    const result = await shell("npx conductor --version");
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(MANIFEST.version);
  });

  it("`npx conductor init` writes a config for this project whose printed next steps work", async () => {
    const init = await shell("npx conductor init");
    expect(init.stderr).toBe("");
    expect(init.exitCode).toBe(0);
    expect(init.stdout).toBe(
      "Wrote conductor.yaml. Edit its tasks, then run `npx conductor validate` and `npx conductor plan`.",
    );

    const text = await readFile(path.join(project.root, "conductor.yaml"), "utf8");
    const schema = /^# yaml-language-server: \$schema=(.+)$/m.exec(text)?.[1];
    expect(schema).toBe(`node_modules/${MANIFEST.name}/schema/conductor.schema.json`);
    expect(existsSync(path.join(project.root, schema as string))).toBe(true);
    const config = parse(text) as WrittenConfig;
    expect(config.scripts?.setup).toBe("npm ci");
    expect(config.scripts?.check).toBe("npm test");
    expect(config.workspaces?.copy).toEqual([".env.local"]);

    // Paste the hints as printed.
    for (const hint of [...init.stdout.matchAll(/`([^`]+)`/g)].map((match) => match[1] ?? "")) {
      const result = await shell(hint);
      expect(result.stderr, hint).toBe("");
      expect(result.exitCode, hint).toBe(0);
    }
    const validate = await shell("npx conductor validate");
    expect(validate.stdout).toMatch(/^conductor\.yaml is valid: 1 task, 1 workspace \(plan /);
  });

  it("`npx conductor run` prints next steps that work when pasted into a shell", async () => {
    // npx puts node_modules/.bin on the PATH of conductor, not of the shell a CI log's reader
    // pastes into: there, a bare `conductor` is not found.
    await writeFile(
      path.join(project.root, "ci-tasks.yaml"),
      [
        "version: 1",
        "agent:",
        "  kind: command",
        '  command: echo done > "$CONDUCTOR_TASK_ID.txt"',
        "tasks:",
        "  - id: broken",
        "    prompt: Fail the check.",
        "    scripts:",
        "      check: exit 1",
        "  - id: after",
        "    prompt: Wait for broken.",
        "    depends_on: [broken]",
        "",
      ].join("\n"),
    );
    const run = await shell("npx conductor -c ci-tasks.yaml run --output plain");
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(1);
    const hints = [...run.stdout.matchAll(/`([^`]+)`/g)]
      .map((match) => match[1] ?? "")
      .filter((hint) => !hint.includes("<"));
    expect(hints).toContain("npx conductor -c ci-tasks.yaml logs broken");
    expect(hints.some((hint) => hint.includes(" run --resume "))).toBe(true);
    for (const hint of hints) {
      expect(hint, hint).toMatch(/^npx conductor /);
      const pasted = await shell(hint);
      expect(pasted.stderr, hint).not.toMatch(/not found/);
      // The log prints; the resume runs the failing check again.
      expect(pasted.exitCode, `${hint}\n${pasted.stderr}`).toBe(hint.includes("--resume") ? 1 : 0);
    }
  });
});
