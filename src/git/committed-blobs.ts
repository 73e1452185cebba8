import { runGit, runGitBytes, storedHistory } from "./run-git.js";

/**
 * The files commits added or changed, and their contents, read from git's objects: what a range
 * of commits holds, whatever the worktree holds now.
 */

/** A file as a commit left it: its path and the blob it holds. */
export interface CommittedBlob {
  file: string;
  blob: string;
}

/** The mode of a submodule's entry: a commit of another repository, not a blob of this one. */
const SUBMODULE_MODE = "160000";

/**
 * Every file the commits of `from..to` added or changed, with the blob each holds (a merge's
 * files against each of its parents, so what it brings in counts too); deletions and submodules
 * left out. One git process, however many commits.
 */
export async function blobsCommitted(
  cwd: string,
  from: string,
  to: string,
): Promise<CommittedBlob[]> {
  const out = await runGit(
    cwd,
    [
      "log",
      "--raw",
      "-z",
      // Spelled out, not left to the log.* settings of a config the agent can write to: a root
      // commit shown as the creation of its files, a merge against each of its parents.
      "--root",
      "--diff-merges=separate",
      "--no-renames",
      "--no-abbrev",
      "--format=",
      `${from}..${to}`,
    ],
    { env: storedHistory({ allCommits: true }) },
  );
  // `-z` fields: `:<old mode> <new mode> <old blob> <new blob> <status>`, then the path.
  const fields = out.split("\0");
  const found = new Map<string, CommittedBlob>();
  for (let index = 0; index < fields.length - 1; index++) {
    const meta = (fields[index] as string).replace(/^\n+/, "");
    if (!meta.startsWith(":")) continue;
    const file = fields[++index] as string;
    const [, mode, , blob = ""] = meta.split(" ");
    if (mode === SUBMODULE_MODE || /^0*$/.test(blob)) continue;
    found.set(`${blob} ${file}`, { file, blob });
  }
  return [...found.values()];
}

/**
 * The blobs git's index holds for `files` (relative paths), whatever the worktree holds: an entry
 * marked `--skip-worktree` or `--assume-unchanged` is committed as staged, not as on disk. One git
 * process; submodules and conflicted entries left out.
 */
export async function blobsStaged(
  cwd: string,
  files: ReadonlySet<string>,
): Promise<CommittedBlob[]> {
  if (files.size === 0) return [];
  // The whole index, filtered here: pathspecs on the command line could be too many.
  const out = await runGit(cwd, ["ls-files", "--stage", "-z"]);
  const found: CommittedBlob[] = [];
  for (const field of out.split("\0")) {
    // `<mode> <blob> <stage>\t<path>`
    const tab = field.indexOf("\t");
    if (tab === -1) continue;
    const [mode, blob = "", stage] = field.slice(0, tab).split(" ");
    const file = field.slice(tab + 1);
    if (mode === SUBMODULE_MODE || stage !== "0" || !files.has(file)) continue;
    found.push({ file, blob });
  }
  return found;
}

/** The most bytes of blobs one `git cat-file --batch` prints: what is held in memory at once. */
const BATCH_BYTES = 16 * 1024 * 1024;

/**
 * Hands the content of each of `blobs` no larger than `maxBytes` to `each`, one at a time, and
 * the larger ones with their sizes to `tooLarge` (refused by the size checks, never read). Their
 * sizes come first, from one process; then their contents, from one process per
 * {@link BATCH_BYTES}, so that many files never sit in memory together.
 */
export async function readBlobs(
  cwd: string,
  blobs: readonly string[],
  maxBytes: number,
  each: (blob: string, content: Buffer) => void,
  tooLarge: (blob: string, bytes: number) => void = () => {},
): Promise<void> {
  const sizes = await blobSizes(cwd, [...new Set(blobs)]);
  const batches: string[][] = [];
  let batch: string[] = [];
  let batchBytes = 0;
  for (const [blob, bytes] of sizes) {
    if (!(bytes <= maxBytes)) {
      tooLarge(blob, bytes);
      continue;
    }
    if (batch.length > 0 && batchBytes + bytes > BATCH_BYTES) {
      batches.push(batch);
      batch = [];
      batchBytes = 0;
    }
    batch.push(blob);
    batchBytes += bytes;
  }
  if (batch.length > 0) batches.push(batch);
  for (const ids of batches) {
    await readObjects(cwd, ids, (blob, type, content) => {
      if (type === "blob") each(blob, content);
    });
  }
}

/**
 * The size of each of `ids` that is a blob as stored (not as a replace ref would show it), in the
 * order given: one `git cat-file --batch-check`.
 */
export async function blobSizes(cwd: string, ids: readonly string[]): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  if (ids.length === 0) return sizes;
  const out = await runGit(
    cwd,
    ["cat-file", "--batch-check=%(objectname) %(objecttype) %(objectsize)"],
    { input: `${ids.join("\n")}\n`, env: storedHistory() },
  );
  for (const line of out.split("\n")) {
    const [id = "", type, size] = line.split(" ");
    if (type === "blob") sizes.set(id, Number(size));
  }
  return sizes;
}

/**
 * The objects `ids` as `git cat-file --batch` gives them (one process): each with its type and
 * raw content; one that is missing is left out.
 */
export async function readObjects(
  cwd: string,
  ids: readonly string[],
  each: (id: string, type: string, content: Buffer) => void,
): Promise<void> {
  if (ids.length === 0) return;
  const out = await runGitBytes(cwd, ["cat-file", "--batch"], {
    input: `${ids.join("\n")}\n`,
    env: storedHistory(),
  });
  // Each object: `<id> <type> <size>\n`, its content, `\n`; `<id> missing\n` for none.
  let at = 0;
  while (at < out.length) {
    const end = out.indexOf(0x0a, at);
    if (end === -1) break;
    const [id = "", type = "", size] = out.toString("utf8", at, end).split(" ");
    at = end + 1;
    if (size === undefined) continue;
    const bytes = Number(size);
    each(id, type, out.subarray(at, at + bytes));
    at += bytes + 1;
  }
}
