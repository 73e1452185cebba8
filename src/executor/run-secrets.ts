import { gitInShell } from "../git/worktree.js";
import type { Plan } from "../planner/types.js";
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
export async function runSecrets(plan: Plan): Promise<KnownSecrets> {
  const secrets = new KnownSecrets(namedSecretsInEnvironment(process.env));
  for (const workspace of plan.workspaces) secrets.add(namedSecretsInEnvironment(workspace.env));
  const root = plan.repo.root;
  const envFiles = (await filesToCopy(root, plan.copy).catch(() => [])).filter(isEnvFile);
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
