import path from "node:path";
import { uiAssets } from "./assets.js";
import { newToken } from "./guard.js";
import { reserveUiPort } from "./port.js";
import { startUiServer } from "./server.js";

/** What `conductor ui` (and `demo --ui`) start the page with. */
export interface StartUiOptions {
  root: string;
  runId: string;
  homeDir: string;
  /** `--port`; a free port from the registry when absent. */
  port?: number | undefined;
  /** The folder conductor is installed in (assets, the CLI the actions run). */
  packageRoot: string;
}

/** A running page: its address and how to stop it. */
export interface RunningUi {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Reserves a port, starts the page's server on 127.0.0.1 with a fresh token. */
export async function startUi(options: StartUiOptions): Promise<RunningUi> {
  const reserved = await reserveUiPort(options.homeDir, options.root, options.port);
  const assets = uiAssets(options.packageRoot);
  try {
    const server = await startUiServer({
      root: options.root,
      runId: options.runId,
      token: newToken(),
      port: reserved.port,
      assetsDir: assets.dir,
      vendorFiles: assets.vendor,
      launcher: {
        node: process.execPath,
        script: path.join(options.packageRoot, "dist", "bin", "conductor.js"),
      },
    });
    return {
      url: server.url,
      port: server.port,
      close: async () => {
        await server.close();
        await reserved.release();
      },
    };
  } catch (error) {
    await reserved.release();
    throw error;
  }
}
