import path from "node:path";
import { UsageError } from "../errors.js";
import { FIRST_PORT, LAST_PORT, releasePorts, reservePortBlocks } from "../executor/ports.js";

/**
 * The page's port comes from conductor's port registry, like a workspace's block, so that no
 * run hands it to a workspace while the page is up. Its entry is keyed by a path that never
 * exists, so it stays reserved exactly while this process lives.
 */

/** Where the page's ports are looked for first: the top of conductor's range, away from workspaces. */
export const UI_PREFERRED_PORT = 32700;

/** A port reserved for the page; `release` hands it back. */
export interface UiPort {
  port: number;
  release(): Promise<void>;
}

/** Reserves the page's port: `requested` exactly when given, else a free one from the registry. */
export async function reserveUiPort(
  homeDir: string,
  root: string,
  requested: number | undefined,
): Promise<UiPort> {
  if (
    requested !== undefined &&
    !(Number.isInteger(requested) && requested > 0 && requested < 65536)
  ) {
    throw new UsageError(`--port ${requested} is not a port number (1-65535)`);
  }
  const key = path.join(root, ".conductor", "ui", String(process.pid));
  const inRange = requested === undefined || (requested >= FIRST_PORT && requested <= LAST_PORT);
  if (!inRange) return { port: requested as number, release: async () => {} };
  const preferred = requested ?? UI_PREFERRED_PORT;
  const blocks = await reservePortBlocks(homeDir, [
    {
      count: 1,
      preferredIndex: preferred - FIRST_PORT,
      worktree: key,
      workspace: "conductor ui",
      runId: "",
    },
  ]);
  const port = blocks.get(key)?.start as number;
  const release = () => releasePorts(homeDir, key);
  if (requested !== undefined && port !== requested) {
    await release();
    throw new UsageError(
      `--port ${requested} is taken (by a workspace's block or another program)`,
      {
        hint: "Leave --port out to get a free port from conductor's registry.",
      },
    );
  }
  return { port, release };
}
