import os from "node:os";
import { openSecretUrl } from "../process/open-url.js";
import { type RunningUi, startUi } from "../ui/start.js";
import { interruptOnSignals } from "./interrupt.js";
import { PACKAGE_ROOT } from "./package-info.js";

/** Starts the review page of a run (`conductor ui`, `demo --ui`) and prints its address. */
export async function startPage(options: {
  root: string;
  runId: string;
  port?: number | undefined;
  open?: boolean | undefined;
}): Promise<RunningUi> {
  const page = await startUi({
    root: options.root,
    runId: options.runId,
    homeDir: os.homedir(),
    port: options.port,
    packageRoot: PACKAGE_ROOT,
  });
  process.stdout.write(`conductor ui: run ${options.runId} at ${page.url}\n`);
  if (options.open !== true) return page;
  // Not the address itself: an opener's arguments are readable by every local user (ps), and
  // the token is what keeps them off the page. The browser gets a private file that redirects.
  const opening = await openSecretUrl(page.url, os.homedir());
  if (!opening.opened) {
    process.stderr.write("conductor: could not open a browser; open the address above yourself\n");
  }
  return {
    ...page,
    close: async () => {
      opening.dispose();
      await page.close();
    },
  };
}

/** Keeps the page up until Ctrl-C (or SIGTERM, SIGHUP), then stops it cleanly. */
export async function servePageUntilInterrupted(page: RunningUi): Promise<void> {
  const interrupt = interruptOnSignals(() => {});
  try {
    process.stdout.write(`(Ctrl-C stops the page at ${page.url})\n`);
    await new Promise<void>((resolve) => {
      if (interrupt.signal.aborted) resolve();
      interrupt.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    process.stderr.write("conductor ui: stopping\n");
  } finally {
    await page.close();
    interrupt.dispose();
  }
}
