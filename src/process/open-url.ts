import { execa } from "execa";

/**
 * Opens a URL in the user's browser (`xdg-open`, `open` on macOS), detached: the browser
 * outlives nothing of ours and its output never reaches the terminal. Says whether it started.
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
