import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { ignoredUntrackedFiles } from "../git/ignored.js";
import { type RepoSettings, readRepoSettings } from "../schema/repo-settings.js";

/** What `conductor init` learns from a repository to write a config that fits it. */
export interface RepositorySurvey {
  /** The command that installs dependencies as the lockfile pins them; undefined without one. */
  install: { command: string; lockfile: string } | undefined;
  /** Commands for the package.json scripts that make a good check, lint before test. */
  checks: string[];
  /** Gitignored, untracked `.env` files at the root: what every workspace needs copied. */
  envFiles: string[];
  /** Whether the repository lists `packageName` in its package.json dependencies. */
  dependsOnConductor: boolean;
  /** The Conductor app settings the repository already has; conductor reads them as defaults. */
  settings: RepoSettings;
}

/** A lockfile and the command that installs exactly what it pins. */
interface Lockfile {
  file: string;
  manager: PackageManager;
  install: (text: string) => string;
}

type PackageManager = "npm" | "pnpm" | "yarn" | "bun";

// In order of preference when several lie side by side.
const LOCKFILES: readonly Lockfile[] = [
  { file: "package-lock.json", manager: "npm", install: () => "npm ci" },
  { file: "npm-shrinkwrap.json", manager: "npm", install: () => "npm ci" },
  { file: "pnpm-lock.yaml", manager: "pnpm", install: () => "pnpm install --frozen-lockfile" },
  {
    file: "yarn.lock",
    manager: "yarn",
    // Yarn 1 has no --immutable; its lockfile says which format it is in its header.
    install: (text) =>
      /^# yarn lockfile v1$/m.test(text)
        ? "yarn install --frozen-lockfile"
        : "yarn install --immutable",
  },
  { file: "bun.lock", manager: "bun", install: () => "bun install --frozen-lockfile" },
  { file: "bun.lockb", manager: "bun", install: () => "bun install --frozen-lockfile" },
];

/** The package.json scripts used as the check, in the order they run. */
const CHECK_SCRIPTS = ["lint", "test"] as const;

/** The test script `npm init` writes, which always fails: never a check. */
const PLACEHOLDER_TEST = /no test specified/;

const ENV_FILE = /^\.env(\..+)?$/;

/** Looks at the repository's root: lockfile, package.json scripts and gitignored env files. */
export async function surveyRepository(
  root: string,
  packageName: string,
): Promise<RepositorySurvey> {
  const lockfile = LOCKFILES.find((candidate) => existsSync(path.join(root, candidate.file)));
  const lockText = lockfile ? await readText(path.join(root, lockfile.file), 4096) : "";
  const manifest = await readManifest(path.join(root, "package.json"));
  const manager = lockfile?.manager ?? "npm";
  const checks = CHECK_SCRIPTS.filter((name) => {
    const script = manifest?.scripts?.[name];
    return typeof script === "string" && script.trim() !== "" && !PLACEHOLDER_TEST.test(script);
  }).map((name) => runScript(manager, name));
  const dependencies = { ...manifest?.dependencies, ...manifest?.devDependencies };
  return {
    install: lockfile && { command: lockfile.install(lockText), lockfile: lockfile.file },
    checks,
    envFiles: await ignoredEnvFiles(root),
    dependsOnConductor: Object.hasOwn(dependencies, packageName),
    settings: await readRepoSettings(root),
  };
}

function runScript(manager: PackageManager, name: (typeof CHECK_SCRIPTS)[number]): string {
  // `<manager> test` works in all four; other scripts need `run` in npm.
  return name === "test" ? `${manager} test` : `${manager} run ${name}`;
}

interface Manifest {
  scripts?: Record<string, unknown>;
  dependencies?: Record<string, unknown>;
  devDependencies?: Record<string, unknown>;
}

async function readManifest(file: string): Promise<Manifest | undefined> {
  try {
    const value: unknown = JSON.parse(await readFile(file, "utf8"));
    return value !== null && typeof value === "object" ? (value as Manifest) : undefined;
  } catch {
    // No package.json, or one npm itself could not read: nothing to learn from it.
    return undefined;
  }
}

async function readText(file: string, bytes: number): Promise<string> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text.slice(0, bytes);
}

async function ignoredEnvFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true });
  const candidates = entries
    .filter((entry) => (entry.isFile() || entry.isSymbolicLink()) && ENV_FILE.test(entry.name))
    .map((entry) => entry.name);
  return candidates.length === 0 ? [] : (await ignoredUntrackedFiles(root, candidates)).sort();
}
