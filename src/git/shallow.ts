import { NO_CODE_FROM_CONFIG, runGit, runGitBytes, STORED_HISTORY } from "./run-git.js";

/**
 * The commits of `.git/shallow` lines (`after`, the file's text now) that `before` did not have
 * and whose stored parents the repository holds. A shallow line says "git has no parents of this
 * commit": `git fetch --depth` writes one where it stopped, and then the parents are missing. A
 * line for a commit whose parents are there only hides them, from every history git shows (the
 * commits of a branch an agent made, behind a merge, with a secret in one of them).
 */
export async function shallowLinesHidingParents(
  cwd: string,
  before: string,
  after: string,
): Promise<string[]> {
  const had = new Set(shallowCommits(before));
  const added = shallowCommits(after).filter((commit) => !had.has(commit));
  if (added.length === 0) return [];
  const parents = new Map<string, string[]>();
  // Asked before the git config is put back: no hook or fsmonitor of it runs (cat-file runs
  // neither anyway), and objects as stored.
  const objects = await runGitBytes(cwd, [...NO_CODE_FROM_CONFIG, "cat-file", "--batch"], {
    input: `${added.join("\n")}\n`,
    env: STORED_HISTORY,
  });
  let at = 0;
  while (at < objects.length) {
    const headerEnd = objects.indexOf(0x0a, at);
    if (headerEnd === -1) break;
    const [id = "", type, size] = objects.subarray(at, headerEnd).toString("latin1").split(" ");
    at = headerEnd + 1;
    if (type === undefined || size === undefined) continue; // "<id> missing"
    const body = objects.subarray(at, at + Number(size)).toString("latin1");
    at += Number(size) + 1;
    if (type !== "commit") continue;
    const head = body.slice(0, body.indexOf("\n\n") + 1);
    parents.set(
      id,
      [...head.matchAll(/^parent ([0-9a-f]+)$/gm)].map((match) => match[1] ?? ""),
    );
  }
  const named = [...new Set([...parents.values()].flat())];
  if (named.length === 0) return [];
  const present = new Set<string>();
  const checked = await runGit(
    cwd,
    [...NO_CODE_FROM_CONFIG, "cat-file", "--batch-check=%(objectname) %(objecttype)"],
    { input: `${named.join("\n")}\n`, env: STORED_HISTORY },
  );
  for (const line of checked.split("\n")) {
    const [id = "", type] = line.split(" ");
    if (type === "commit") present.add(id);
  }
  return [...parents]
    .filter(([, ofCommit]) => ofCommit.some((parent) => present.has(parent)))
    .map(([commit]) => commit);
}

/** The commit ids of a shallow file's text. */
function shallowCommits(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => /^[0-9a-f]{40,64}$/.test(line));
}
