// bin/conductor, the command npm links into node_modules/.bin: it finds the package through the
// links npm makes, hands arguments and exit codes through, and starts Node without
// NODE_EXTRA_CA_CERTS while every program conductor starts still sees the variable as it was set.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CLI, LAUNCHER } from "../helpers/cli.js";
import { createTestRepo, gitEnv, type TestRepo } from "../helpers/git-repo.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

let scratch: string;
beforeEach(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), "conductor launcher "));
});
afterEach(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** `node_modules/.bin/conductor` as npm links it (relative), and a global link to that link. */
function linkedLaunchers(): { local: string; global: string } {
  const bin = path.join(scratch, "project", "node_modules", ".bin");
  mkdirSync(bin, { recursive: true });
  const local = path.join(bin, "conductor");
  symlinkSync(path.relative(bin, LAUNCHER), local);
  const globalBin = path.join(scratch, "global bin");
  mkdirSync(globalBin);
  const global = path.join(globalBin, "conductor");
  symlinkSync(local, global);
  return { local, global };
}

describe("bin/conductor", () => {
  it("runs the CLI through npm's links, with arguments and the exit code as given", async () => {
    const manifest = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
      version: string;
    };
    for (const launcher of Object.values(linkedLaunchers())) {
      const version = await execa(launcher, ["--version"], { reject: false });
      expect(version.exitCode, version.stderr).toBe(0);
      expect(version.stdout.trim()).toBe(manifest.version);

      // A path with spaces reaches conductor as one argument; its usage error's code comes back.
      const missing = path.join(scratch, "no such folder", "conductor.yaml");
      const result = await execa(launcher, ["-c", missing, "validate"], {
        reject: false,
        env: { NO_COLOR: "1" },
      });
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain(missing);
    }
  });

  describe("and NODE_EXTRA_CA_CERTS", () => {
    let repo: TestRepo;
    beforeEach(async () => {
      // The agent writes what it sees, and whether conductor was started with it: its parent,
      // or its grandparent where the agent runs under the reaper (a Perl wrapper, reaper.ts).
      const agent = [
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the shell expands these, not JS
        'printf "%s|%s|" "${NODE_EXTRA_CA_CERTS-unset}" "${CONDUCTOR_NODE_EXTRA_CA_CERTS-unset}" > seen.txt',
        "up=$PPID",
        "case \"$(tr '\\000' ' ' < /proc/$up/cmdline)\" in *perl*) up=$(sed 's/.*) . //' /proc/$up/stat | cut -d' ' -f1) ;; esac",
        "tr '\\000' '\\n' < /proc/$up/environ | grep -c '^NODE_EXTRA_CA_CERTS=' >> seen.txt || true",
      ].join("; ");
      repo = await createTestRepo({
        "README.md": "# app\n",
        "conductor.yaml": [
          "version: 1",
          "tasks:",
          "  - id: look",
          "    prompt: look around",
          "    agent:",
          "      kind: command",
          `      command: ${JSON.stringify(agent)}`,
          "",
        ].join("\n"),
      });
    });
    afterEach(async () => {
      await repo.remove();
    });

    /** Runs `conductor run` as `command` (and its arguments), returns what the agent wrote. */
    async function seenBy(command: string[], env: Record<string, string>): Promise<string> {
      const [file, ...args] = command as [string, ...string[]];
      const result = await execa(file, [...args, "run", "--output", "plain"], {
        cwd: repo.root,
        reject: false,
        env: { ...gitEnv(repo.home), CI: "1", NO_COLOR: "1", ...env },
        extendEnv: false,
      });
      expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(0);
      return (await repo.git("show", "conductor/look:seen.txt")).trim();
    }

    /** An environment naming a file of extra certificates (empty: nothing here opens TLS). */
    function withCertificates(): { certs: string; env: Record<string, string> } {
      const certs = path.join(scratch, "extra certificates.pem");
      writeFileSync(certs, "");
      return { certs, env: { PATH: process.env.PATH ?? "", NODE_EXTRA_CA_CERTS: certs } };
    }

    // The agent reads its parent's environment in /proc.
    it.skipIf(process.platform !== "linux")(
      "starts conductor without it, and every program conductor starts sees it as it was",
      async () => {
        const { certs, env } = withCertificates();
        const { local } = linkedLaunchers();
        // The agent sees the value, never the carrier; conductor itself started without it.
        expect(await seenBy([local], env)).toBe(`${certs}|unset|0`);
      },
    );

    it.skipIf(process.platform !== "linux")(
      "is started with it when run without the launcher (the check above can fail)",
      async () => {
        const { certs, env } = withCertificates();
        expect(await seenBy(["node", CLI], env)).toBe(`${certs}|unset|1`);
      },
    );

    it("stays unset where it was, whatever a stray carrier variable says", async () => {
      const { local } = linkedLaunchers();
      const env = { PATH: process.env.PATH ?? "", CONDUCTOR_NODE_EXTRA_CA_CERTS: "/stray.pem" };
      expect(await seenBy([local], env)).toMatch(/^unset\|unset\|/);
    });
  });
});
