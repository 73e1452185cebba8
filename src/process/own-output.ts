import { readdirSync, readlinkSync, statSync } from "node:fs";

/**
 * The files conductor's own output ends up in: its stdout and stderr where they are files
 * (`conductor run > run.log`), and the files written by the program that reads its output
 * through a pipe (`conductor run | tee run.log`). A run compares the main checkout before and
 * after each agent; such a file in the repository grows with every line conductor prints, and is
 * not the agent's doing.
 *
 * Linux only (it reads /proc); elsewhere, and for anything it cannot read, none. Absolute paths.
 */
export function ownOutputFiles(): string[] {
  const files = new Set<string>();
  const pipes = new Set<string>();
  for (const fd of [1, 2]) {
    const target = linkOf(`/proc/self/fd/${fd}`);
    if (target === undefined) continue;
    if (target.startsWith("pipe:")) pipes.add(target);
    else if (isRegularFile(target)) files.add(target);
  }
  if (pipes.size > 0) for (const file of filesOfPipeReaders(pipes)) files.add(file);
  return [...files];
}

/**
 * Regular files held open by the other processes that hold one of `pipes`: the reader of
 * conductor's output (`tee`, a CI runner), and whatever it writes to. Looked at once per run.
 */
function filesOfPipeReaders(pipes: ReadonlySet<string>): string[] {
  const files: string[] = [];
  for (const pid of listing("/proc")) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const descriptors = listing(`/proc/${pid}/fd`);
    const links = descriptors.map((fd) => linkOf(`/proc/${pid}/fd/${fd}`));
    if (!links.some((link) => link !== undefined && pipes.has(link))) continue;
    for (const link of links) {
      if (link?.startsWith("/") && isRegularFile(link)) files.push(link);
    }
  }
  return files;
}

function listing(folder: string): string[] {
  try {
    return readdirSync(folder);
  } catch {
    return []; // gone meanwhile, or another user's
  }
}

function linkOf(file: string): string | undefined {
  try {
    return readlinkSync(file);
  } catch {
    return undefined;
  }
}

function isRegularFile(file: string): boolean {
  return statSync(file, { throwIfNoEntry: false })?.isFile() === true;
}
