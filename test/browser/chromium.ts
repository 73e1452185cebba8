import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { PACKAGE_ROOT } from "../ui/page-server.js";

/** Debian's Chromium, installed by .ci/run (`apt-get install -y chromium`). */
export const CHROMIUM = process.env.CONDUCTOR_CHROMIUM ?? "/usr/bin/chromium";

/** Where screenshots go (gitignored; CI keeps them as artefacts). */
export const ARTIFACTS = path.join(PACKAGE_ROOT, "test-artifacts");

/** Starts headless Chromium; fails with the command that installs it when it is missing. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (apt-get update && apt-get install -y chromium), or set CONDUCTOR_CHROMIUM`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    // Root in a container has no user namespace for Chromium's sandbox.
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
}

/** A new page of 1280×800 that fails the test on any console error or request off this machine. */
export async function newPage(
  browser: Browser,
  colorScheme: "light" | "dark" = "light",
): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.hostname !== "127.0.0.1") problems.push(`external request: ${request.url()}`);
  });
  return { page, problems };
}

/** Saves a screenshot under test-artifacts/. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}
