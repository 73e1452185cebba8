import path from "node:path";
import { fileURLToPath } from "node:url";
import { uiAssets } from "../../src/ui/assets.js";
import { startUiServer, type UiServer } from "../../src/ui/server.js";
import { CLI } from "../helpers/cli.js";
import { gitEnv } from "../helpers/git-repo.js";

/** The repository this test suite belongs to (where assets/ui and node_modules are). */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Starts the page's server for a test repository on a free port, its actions run the built CLI. */
export async function startPage(options: {
  root: string;
  home: string;
  runId: string;
  token?: string;
}): Promise<UiServer & { token: string }> {
  const token = options.token ?? "test-token-0123456789";
  const assets = uiAssets(PACKAGE_ROOT);
  const server = await startUiServer({
    root: options.root,
    runId: options.runId,
    token,
    port: 0,
    assetsDir: assets.dir,
    vendorFiles: assets.vendor,
    launcher: { node: process.execPath, script: CLI, env: { ...gitEnv(options.home), CI: "1" } },
  });
  return { ...server, token };
}
