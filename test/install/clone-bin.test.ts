// The README's first command in a clone of this repository: `npm ci` builds dist/ (prepare), then
// `npx conductor` runs this package's own bin, bin/conductor, which runs dist/bin/conductor.js:
// both must be executable. (An installed package gets its bin made executable by npm; a clone
// does not.)
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { CLI, LAUNCHER } from "../helpers/cli.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

describe("conductor's bin in a clone of the repository", () => {
  it("is an executable shell script, and the bundle it runs is built executable", () => {
    expect(readFileSync(LAUNCHER, "utf8").startsWith("#!/bin/sh\n")).toBe(true);
    expect(statSync(LAUNCHER).mode & 0o111).toBe(0o111);
    expect(readFileSync(CLI, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
    expect(statSync(CLI).mode & 0o111).toBe(0o111);
  });

  it("`npx conductor` runs it from the repository's folder, as the README says", async () => {
    const manifest = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
      version: string;
    };
    const result = await execa("npx", ["--no-install", "conductor", "--version"], {
      cwd: ROOT,
      reject: false,
      env: { npm_config_update_notifier: "false", npm_config_offline: "true" },
    });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe(manifest.version);
  });
});
