import { gitInShell } from "../git/worktree.js";
import type { Plan } from "../planner/types.js";
import type { Config, CopyEntry } from "../schema/config.js";
import { isEnvFile, namedSecretsOfCopiedEnvFiles } from "../secrets/env-file.js";
import { KnownSecrets } from "../secrets/known-secrets.js";
import { namedSecretsInEnvironment } from "../secrets/names.js";
import { filesToCopy } from "./copy-files.js";

/**
 * The secrets a run knows before its first event: secret-named variables of conductor's and every
 * workspace's environment, and the values of the env files the plan will copy (so a prompt that
 * quotes one is redacted in `run.started` already). Copy steps add what they copy later. Each
 * is named after what holds it, so that a file refused for holding one can say which.
 */
export function runSecrets(plan: Plan): Promise<KnownSecrets> {
  return secretsBeforeCopying(
    plan.repo.root,
    plan.copy,
    plan.workspaces.map((workspace) => workspace.env),
  );
}

/**
 * The secrets of a config before it is planned, as {@link runSecrets} knows them for its run:
 * conductor's environment, the config's and its tasks' env, and the values of the env files it
 * copies. For what runs before the plan exists: gh reading the issues the plan needs.
 */
export function configSecrets(root: string, config: Config): Promise<KnownSecrets> {
  return secretsBeforeCopying(root, config.workspaces.copy, [
    config.env,
    ...config.tasks.map((task) => task.env),
  ]);
}

async function secretsBeforeCopying(
  root: string,
  copy: readonly CopyEntry[],
  envs: readonly Readonly<Record<string, string>>[],
): Promise<KnownSecrets> {
  const secrets = new KnownSecrets(namedSecretsInEnvironment(process.env));
  for (const env of envs) secrets.add(namedSecretsInEnvironment(env));
  const envFiles = (await filesToCopy(root, copy).catch(() => [])).filter(isEnvFile);
  secrets.add(await namedSecretsOfCopiedEnvFiles(root, await untracked(root, envFiles)));
  return secrets;
}

/** The files of `files` the repository does not track: a committed `.env` holds no secrets. */
async function untracked(root: string, files: readonly string[]): Promise<string[]> {
  if (files.length === 0) return [];
  const out = await gitInShell(root, [
    "ls-files",
    "-z",
    "--",
    ...files.map((f) => `:(literal)${f}`),
  ]);
  const tracked = new Set(out.split("\0").filter(Boolean));
  return files.filter((file) => !tracked.has(file));
}
