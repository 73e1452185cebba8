import { closeSync, constants, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { execa } from "execa";
import { removeFoldersOfGoneProcesses } from "./abandoned-folders.js";

/** How long the page's redirect file stays when nothing stops the page before. */
const REDIRECT_FILE_MS = 2 * 60_000;

/**
 * Opens a URL in the user's browser (`xdg-open`, `open` on macOS), detached: the browser
 * outlives nothing of ours and its output never reaches the terminal. Says whether it started.
 * The URL is an argument of the opener, which every local user can read (`ps`, /proc): use
 * {@link openSecretUrl} for one that carries a secret.
 */
export async function openInBrowser(url: string): Promise<boolean> {
  const opener = process.platform === "darwin" ? "open" : "xdg-open";
  try {
    const child = execa(opener, [url], { detached: true, stdio: "ignore", reject: false });
    child.unref();
    const result = await Promise.race([
      child,
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 1000).unref()),
    ]);
    return result === undefined || result.exitCode === 0;
  } catch {
    return false;
  }
}

/** A URL being opened through a redirect file; `dispose` removes the file (idempotent). */
export interface OpenedSecretUrl {
  opened: boolean;
  dispose(): void;
}

/**
 * Opens a URL that carries a secret (the review page's token) without it ever being a process
 * argument: a small HTML file that redirects to it is written into a private folder under
 * `<homeDir>/.conductor/tmp` (0700, the file 0600) and the browser is handed that file's
 * address. The file goes after {@link REDIRECT_FILE_MS}, at `dispose` or when this process exits;
 * the folders of conductors that ended without their exit handler (SIGKILL) go at the next call
 * ({@link removeAbandonedRedirects}).
 */
export async function openSecretUrl(url: string, homeDir: string): Promise<OpenedSecretUrl> {
  let folder: string;
  let file: string;
  try {
    const parent = path.join(homeDir, ".conductor", "tmp");
    mkdirSync(parent, { recursive: true, mode: 0o700 });
    removeAbandonedRedirects(parent);
    folder = mkdtempSync(path.join(parent, `open-${process.pid}-`)); // made 0700
    file = path.join(folder, "page.html");
    const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;
    const fd = openSync(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    try {
      writeSync(fd, redirectPage(url));
    } finally {
      closeSync(fd);
    }
  } catch {
    return { opened: false, dispose: () => {} };
  }
  let disposed = false;
  const dispose = () => {
    if (disposed) return;
    disposed = true;
    clearTimeout(timer);
    process.off("exit", dispose);
    rmSync(folder, { recursive: true, force: true });
  };
  const timer = setTimeout(dispose, REDIRECT_FILE_MS);
  timer.unref();
  process.once("exit", dispose);
  const opened = await openInBrowser(pathToFileURL(file).href);
  if (!opened) dispose();
  return { opened, dispose };
}

/** A folder {@link openSecretUrl} makes: `open-<pid>-` and mkdtemp's six characters. */
const REDIRECT_FOLDER = /^open-([1-9][0-9]*)-[A-Za-z0-9]{6}$/;

/**
 * Removes the redirect folders under `parent` whose conductor is gone: a process ended by SIGKILL
 * (or a crash of node itself) never ran its exit handler, and its folder would hold the tokened
 * address forever. Only folders named as {@link openSecretUrl} names them (see
 * removeFoldersOfGoneProcesses for which of those go).
 */
export function removeAbandonedRedirects(parent: string): void {
  removeFoldersOfGoneProcesses(parent, REDIRECT_FOLDER);
}

/** An HTML page that sends the browser on to `url` at once (no script: a meta refresh). */
function redirectPage(url: string): string {
  const escaped = url.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  return `<!doctype html>
<html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<meta http-equiv="refresh" content="0; url=${escaped}">
<title>conductor ui</title></head>
<body><a href="${escaped}">Open the review page</a></body></html>
`;
}
