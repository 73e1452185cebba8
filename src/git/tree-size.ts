import { gitInShell } from "./worktree.js";

/** Bytes of the files a checkout of `commit` holds: what one more worktree of it takes on disk. */
export async function checkoutSize(root: string, commit: string): Promise<number> {
  const out = await gitInShell(root, ["ls-tree", "-r", "-l", "--full-tree", commit]);
  let total = 0;
  for (const line of out.split("\n")) {
    // `<mode> blob <sha> <size>\t<path>`; submodules show `-` as their size.
    const size = Number(line.slice(0, line.indexOf("\t")).trim().split(/\s+/)[3]);
    if (Number.isFinite(size)) total += size;
  }
  return total;
}
