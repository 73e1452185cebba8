import { mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";

/** A throwaway git repository with one commit on `main`, and helpers to work in it. */
export interface TestRepo {
  /** Real (symlink-free) path of the main checkout. */
  root: string;
  /** A private home directory: workspaces and the port registry go under it. */
  home: string;
  /** Runs git in the repository and returns stdout. */
  git(...args: string[]): Promise<string>;
  /** Writes files (relative path → content), creating folders. */
  write(files: Record<string, string>): Promise<void>;
  /** Commits everything with a message. */
  commitAll(message: string): Promise<void>;
  remove(): Promise<void>;
}

/**
 * Creates a repository the way git tests do: forced `main`, a local identity, no signing and no
 * background maintenance (which races with cleanup).
 */
export async function createTestRepo(
  files: Record<string, string> = { "README.md": "# test\n" },
): Promise<TestRepo> {
  const base = await realpath(await mkdtemp(path.join(os.tmpdir(), "conductor-test-")));
  const root = path.join(base, "repo");
  const home = path.join(base, "home");
  await mkdir(root);
  await mkdir(home);
  const git = async (...args: string[]) =>
    (await execa("git", args, { cwd: root, env: gitEnv(home) })).stdout;
  await git("init", "-q", "-b", "main");
  for (const [key, value] of Object.entries({
    "user.name": "Test",
    "user.email": "test@example.com",
    "commit.gpgSign": "false",
    "gc.auto": "0",
    "maintenance.auto": "false",
  })) {
    await git("config", key, value);
  }
  const write = async (more: Record<string, string>) => {
    for (const [file, content] of Object.entries(more)) {
      await mkdir(path.dirname(path.join(root, file)), { recursive: true });
      await writeFile(path.join(root, file), content);
    }
  };
  const commitAll = async (message: string) => {
    await git("add", "-A");
    await git("commit", "-q", "-m", message);
  };
  await write(files);
  await commitAll("initial commit");
  return {
    root,
    home,
    git,
    write,
    commitAll,
    remove: () => rm(base, { recursive: true, force: true }),
  };
}

/** Environment that keeps git and conductor away from the real user's configuration. */
export function gitEnv(home: string): Record<string, string> {
  return {
    HOME: home,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_AUTHOR_NAME: "Test",
    GIT_AUTHOR_EMAIL: "test@example.com",
    GIT_COMMITTER_NAME: "Test",
    GIT_COMMITTER_EMAIL: "test@example.com",
  };
}

/** The commit HEAD of the test repository is on. */
export async function headCommit(test: TestRepo): Promise<string> {
  return (await test.git("rev-parse", "HEAD")).trim();
}
