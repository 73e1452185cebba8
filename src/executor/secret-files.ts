import path from "node:path";
import { entryExists } from "../fs/entry-exists.js";
import {
  blobsCommitted,
  blobsStaged,
  type CommittedBlob,
  readBlobs,
} from "../git/committed-blobs.js";
import { isKeptPath, parseStatus } from "../git/status-entries.js";
import type { CommitGuard } from "../secrets/known-secrets.js";
import { secretsInBytes } from "../secrets/secret-search.js";
import { secretsInFile } from "../secrets/secrets-in-file.js";

/**
 * Files that must not reach a branch because they hold a secret the run knows (see
 * {@link CommitGuard}): the agent wrote an API key into a file, printed JSON holding it, named a
 * file after it. Found by the values themselves, in every spelling the redactor replaces, never
 * by what a secret looks like.
 */

/** A file holding secrets barred from commits, in its content or its path. */
export interface SecretFile {
  /** Path relative to the worktree, as git names it (it may hold the secret: redact it to show). */
  file: string;
  /** What holds the secrets found (`API_TOKEN from .env.local`); never the values. */
  names: string[];
}

/**
 * The new or changed files of a worktree (its `status`, `exclude`d paths left out) that hold a
 * secret barred from commits. Read from the files themselves, with fs and a piece at a time,
 * before git has stored any of them; nothing is read when the run knows no such secret.
 */
export function worktreeFilesWithSecrets(
  worktree: string,
  status: string,
  exclude: readonly string[],
  maxBytes: number,
  guard: CommitGuard,
): SecretFile[] {
  const { redactor } = guard;
  if (!redactor.active) return [];
  const found: SecretFile[] = [];
  for (const { path: file } of parseStatus(status).entries) {
    // Whatever the status says (a deletion, either side of a conflict), `git add --all` stages
    // what is on disk: a file that is gone holds nothing, and its name is being taken away.
    if (isKeptPath(file, exclude)) continue;
    const place = path.join(worktree, file);
    const secrets = [
      ...(entryExists(place) ? redactor.found(file) : []),
      ...secretsInFile(place, redactor, maxBytes),
    ];
    if (secrets.length > 0) found.push({ file, names: namesOf(secrets, guard) });
  }
  return found;
}

/**
 * The files that commits of `from..to` added or changed (`exclude`d paths left out) whose content
 * or path, as those commits hold them, has a secret barred from commits: what the agent committed
 * by itself. Three git processes, however many commits, and none when the run knows no such secret.
 */
export async function committedFilesWithSecrets(
  cwd: string,
  range: { from: string; to: string },
  exclude: readonly string[],
  maxBytes: number,
  guard: CommitGuard,
): Promise<SecretFile[]> {
  if (!guard.redactor.active) return [];
  const committed = (await blobsCommitted(cwd, range.from, range.to)).filter(
    (entry) => !isKeptPath(entry.file, exclude),
  );
  return blobsWithSecrets(cwd, committed, maxBytes, guard);
}

/**
 * The files the agent staged itself (changed in the index, the worktree showing no change beside
 * it) whose staged content holds a secret barred from commits, and those too large to be looked
 * into. The commit takes such a file from the index, and the index may hold what the disk does
 * not: a blob staged with `--skip-worktree`, or a file marked `--assume-unchanged` and changed
 * after (whose size on disk the size check measured). Git runs only when the agent left staged
 * files and the run knows such a secret.
 */
export async function stagedFilesWithSecrets(
  worktree: string,
  status: string,
  exclude: readonly string[],
  maxBytes: number,
  guard: CommitGuard,
): Promise<{ secrets: SecretFile[]; tooLarge: { file: string; bytes: number }[] }> {
  const none = { secrets: [], tooLarge: [] };
  if (!guard.redactor.active) return none;
  const staged = new Set(
    parseStatus(status)
      .entries.filter(
        ({ code, path: file }) =>
          !" ?!D".includes(code[0] as string) && code[1] === " " && !isKeptPath(file, exclude),
      )
      .map((entry) => entry.path),
  );
  if (staged.size === 0) return none;
  const entries = await blobsStaged(worktree, staged);
  const large = new Map<string, number>();
  const secrets = await blobsWithSecrets(worktree, entries, maxBytes, guard, (blob, bytes) =>
    large.set(blob, bytes),
  );
  const tooLarge = entries
    .filter((entry) => large.has(entry.blob))
    .map((entry) => ({ file: entry.file, bytes: large.get(entry.blob) as number }));
  return { secrets, tooLarge };
}

/** The files of `entries` whose blob or path holds a secret barred from commits, by file. */
async function blobsWithSecrets(
  cwd: string,
  entries: readonly CommittedBlob[],
  maxBytes: number,
  guard: CommitGuard,
  tooLarge?: (blob: string, bytes: number) => void,
): Promise<SecretFile[]> {
  const { redactor } = guard;
  const inBlob = new Map<string, string[]>();
  await readBlobs(
    cwd,
    entries.map((entry) => entry.blob),
    maxBytes,
    (blob, content) => {
      const secrets = secretsInBytes(content, redactor);
      if (secrets.length > 0) inBlob.set(blob, secrets);
    },
    tooLarge,
  );
  const byFile = new Map<string, Set<string>>();
  for (const { file, blob } of entries) {
    const secrets = [...redactor.found(file), ...(inBlob.get(blob) ?? [])];
    if (secrets.length === 0) continue;
    const known = byFile.get(file) ?? new Set<string>();
    for (const secret of secrets) known.add(secret);
    byFile.set(file, known);
  }
  return [...byFile]
    .map(([file, secrets]) => ({ file, names: namesOf([...secrets], guard) }))
    .sort((a, b) => a.file.localeCompare(b.file));
}

/**
 * `out.txt (API_TOKEN from .env.local) and b.json (OPENAI_API_KEY)`: the files with what holds
 * their secrets, never a value. Paths go through `redact`: a file may be named after a secret.
 */
export function listSecretFiles(
  files: readonly SecretFile[],
  redact: (text: string) => string,
): string {
  const shown = files.map(
    (entry) =>
      `${redact(entry.file)} (${entry.names.length === 0 ? "a known secret" : entry.names.join(", ")})`,
  );
  return shown.length === 1
    ? (shown[0] as string)
    : `${shown.slice(0, -1).join(", ")} and ${shown.at(-1) as string}`;
}

/** What holds each of `secrets`; empty when none of them is known by name. */
export function namesOf(secrets: readonly string[], guard: CommitGuard): string[] {
  const names = new Set<string>();
  let unnamed = false;
  for (const secret of secrets) {
    const of = guard.namesOf(secret);
    if (of.length === 0) unnamed = true;
    for (const name of of) names.add(name);
  }
  if (unnamed && names.size > 0) names.add("a known secret");
  return [...names];
}

/** Files found by more than one look, once each, with every name found for them. */
export function mergeSecretFiles(...found: readonly SecretFile[][]): SecretFile[] {
  const byFile = new Map<string, Set<string>>();
  for (const entry of found.flat()) {
    const names = byFile.get(entry.file) ?? new Set<string>();
    for (const name of entry.names) names.add(name);
    byFile.set(entry.file, names);
  }
  return [...byFile]
    .map(([file, names]) => ({ file, names: [...names] }))
    .sort((a, b) => a.file.localeCompare(b.file));
}
