// Secrets an agent prints, says or is given never reach conductor's artefacts: the run folder
// (logs, events.jsonl, run.json, final.md, prompt.md, reports, pr.md), the branch's history,
// `conductor report`, `conductor status` and the body `conductor pr` prepares. The agents are the
// real codex and claude binaries against the scripted model servers; their JSON streams escape
// what they print (`\"`, `\\`, `\n`), which literal matching alone misses.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdir, symlink } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import {
  SCRIPTED_MODEL as CLAUDE_MODEL,
  type ScriptedReply as ClaudeReply,
  markerScript as claudeMarkerScript,
} from "../../src/model-server/anthropic.js";
import { markerScript, type ScriptedReply } from "../../src/model-server/server.js";
import { conductor } from "../helpers/cli.js";
import type { TestRepo } from "../helpers/git-repo.js";
import { latestSummary, repoWithConfig } from "../helpers/run-repo.js";
import { useScriptedClaude, useScriptedCodex } from "../helpers/scripted-agents.js";

/** In conductor's environment, secret-named: quotes, a backslash and a newline in it. */
const DB_PASSWORD = `Qu"ote\\Back\nNewLine-pw-3c9`;
/** Not named like a secret by the old rules (PASSWORD is not a `_` word of it). */
const PGPASSWORD = "pg-Only-Secret-8d2e";
/** Only the password part of this URL is secret. */
const URL_PASSWORD = "Url-Pa55-w0rd";
const DATABASE_URL = `postgres://app:${URL_PASSWORD}@db.internal:5432/app`;
/** In the copied .env.local, double-quoted with an escaped quote and backslashes, then a comment. */
const ENV_FILE_PASSWORD = `lo\\"cal\\\\pw'7Zq`;
/** A multi-line quoted value (a PEM body): every line of it is secret. */
const PEM_LINES = [
  "-----BEGIN TEST PRIVATE KEY-----",
  "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu",
  "KUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQJAIJLixBy2qpFoS4DSmoEm",
  "-----END TEST PRIVATE KEY-----",
];
/**
 * PGPASSWORD with one ordinary character written as a JSON escape, as an agent may print it to
 * get it past matching of the literal value and of JSON's own escaping.
 */
const PG_ESCAPED = PGPASSWORD.replace("-", "\\u002d");
/** Given to the agent in its prompt; known as a secret from the copied .env.local. */
const PROMPT_SECRET = "prompt-Secret-4e1f9a";

const ENV_LOCAL = [
  "# local settings, never committed",
  `export LOCAL_DB_PASSWORD="${ENV_FILE_PASSWORD}"   # rotated monthly`,
  `SIGNING_PRIVATE_KEY="${PEM_LINES.join("\n")}"`,
  `DEPLOY_TOKEN=${PROMPT_SECRET}`,
  "",
].join("\n");

/** Every secret as the agent sees it (what dotenv parses, what the environment holds). */
const SECRETS = [DB_PASSWORD, PGPASSWORD, URL_PASSWORD, ENV_FILE_PASSWORD, PROMPT_SECRET];

/** The shapes a secret takes in conductor's artefacts if redaction misses it. */
function leakForms(secret: string): string[] {
  const escaped = JSON.stringify(secret).slice(1, -1);
  const twice = JSON.stringify(escaped).slice(1, -1);
  const lines = secret.split("\n").filter((line) => line.trim().length >= 6);
  return [...new Set([secret, escaped, twice, ...lines])];
}

const FORBIDDEN = [...[...SECRETS, PG_ESCAPED].flatMap(leakForms), ...PEM_LINES.slice(1, 3)];

/** Which forbidden forms `text` contains (none, when nothing leaked). */
function leaksIn(text: string): string[] {
  return FORBIDDEN.filter((form) => text.includes(form));
}

/** Every file under `dir` (recursively) with the forms of secrets it contains. */
function leakingFiles(dir: string): Record<string, string[]> {
  const found: Record<string, string[]> = {};
  for (const entry of readdirSync(dir, { recursive: true, encoding: "utf8" })) {
    const file = path.join(dir, entry);
    if (!statSync(file).isFile()) continue;
    const leaks = leaksIn(readFileSync(file, "utf8"));
    if (leaks.length > 0) found[entry] = leaks;
  }
  return found;
}

/**
 * The command the agent runs: prints every secret, PGPASSWORD also as PG_ESCAPED, the PEM line by
 * line, then changes a file. sed makes PG_ESCAPED from the environment, so the command itself
 * (which codex's events quote in shell syntax, doubling its backslashes) holds no secret.
 */
const PRINT_SECRETS = `printf "%s\\n" "$DB_PASSWORD" "$PGPASSWORD" "$DATABASE_URL"; printf "%s\\n" "$PGPASSWORD" | sed 's/-/\\\\u002d/'; cat .env.local; echo done > done.txt`;

/** What PRINT_SECRETS prints that is, or spells, a secret. */
const PRINTED = [...SECRETS, ...PEM_LINES, PG_ESCAPED];

/** The agent's final message says the secrets out loud. */
const CONFESSION = `Done. The password is ${DB_PASSWORD}, pg uses ${PGPASSWORD} (${PG_ESCAPED} escaped), the URL password is ${URL_PASSWORD}, the local one is ${ENV_FILE_PASSWORD} and the key starts ${PEM_LINES[1]}.`;

const PROMPT = `Deploy with ${PROMPT_SECRET} and report back`;

const CONDUCTOR_ENV = { DB_PASSWORD, PGPASSWORD, DATABASE_URL };

/** A PATH with only node and git: `conductor pr` finds no gh and prints the body it would send. */
async function pathWithoutGh(home: string): Promise<string> {
  const bin = path.join(home, "bin-without-gh");
  await mkdir(bin, { recursive: true });
  const git = (await execa("sh", ["-c", "command -v git"])).stdout.trim();
  await symlink(process.execPath, path.join(bin, "node"));
  await symlink(git, path.join(bin, "git"));
  return bin;
}

/**
 * Runs the task, then everything that reads the run, and returns what leaked where. The task's
 * workspace must have succeeded, so the commit, reports and pull request body all exist.
 */
async function runAndCollectLeaks(
  repo: TestRepo,
  env: Record<string, string>,
): Promise<Record<string, string[]>> {
  const run = await conductor(["run", "--output", "plain"], {
    cwd: repo.root,
    home: repo.home,
    env,
  });
  expect(run.exitCode, run.all).toBe(0);
  expect(latestSummary(repo.root).workspaces[0]?.status).toBe("succeeded");
  const outputs: Record<string, string> = { "conductor run": run.all };
  for (const args of [
    ["report"],
    ["report", "--format", "markdown"],
    ["report", "--format", "junit"],
    ["status"],
    ["logs", "deploy"],
  ]) {
    const result = await conductor(args, { cwd: repo.root, home: repo.home, env });
    expect(result.exitCode, result.all).toBe(0);
    outputs[`conductor ${args.join(" ")}`] = result.all;
  }
  await repo.git("remote", "add", "origin", "git@github.com:acme/widgets.git");
  const pr = await conductor(["pr", "deploy"], {
    cwd: repo.root,
    home: repo.home,
    env: { ...env, PATH: await pathWithoutGh(repo.home) },
  });
  // Nothing was pushed (no gh): exit 1, with the commands to run printed.
  expect(pr.exitCode, pr.all).toBe(1);
  expect(pr.stdout).toContain("nothing was pushed");
  outputs["conductor pr"] = pr.all;
  // Every commit of the run (messages and changes); main holds conductor.yaml with the prompt.
  outputs["git history"] = await repo.git("log", "-p", "--format=%H%n%B", "--all", "--not", "main");
  expect(outputs["git history"]).toContain("Conductor-Workspace: deploy");

  const leaks: Record<string, string[]> = {};
  for (const [where, text] of Object.entries(outputs)) {
    const found = leaksIn(text);
    if (found.length > 0) leaks[where] = found;
  }
  const runFolder = path.join(repo.root, ".conductor", "runs");
  for (const [file, found] of Object.entries(leakingFiles(runFolder))) leaks[file] = found;
  // The pull request body exists, so an empty result above is not an empty check.
  const body = readFileSync(
    path.join(runFolder, latestSummary(repo.root).runId, "workspaces", "deploy", "pr.md"),
    "utf8",
  );
  expect(body).toContain("[redacted]");
  return leaks;
}

describe("secrets never reach conductor's artefacts", () => {
  let repo: TestRepo | undefined;
  afterEach(async () => {
    await repo?.remove();
    repo = undefined;
  });

  describe("with the real codex", () => {
    const routes: Record<string, readonly ScriptedReply[]> = {};
    const codex = useScriptedCodex((request) => markerScript(routes)(request));

    it("redacts escaped and decoded secrets the agent printed and said, and secrets in its prompt", async () => {
      routes["[leaky-codex]"] = [
        { kind: "exec", cmd: PRINT_SECRETS },
        { kind: "message", text: CONFESSION },
      ];
      repo = await repoWithConfig(
        {
          ...codex.config(),
          workspaces: { copy: [".env.local"] },
          tasks: [{ id: "deploy", prompt: `${PROMPT} [leaky-codex]` }],
        },
        { ".gitignore": ".env.local\n" },
      );
      await repo.write({ ".env.local": ENV_LOCAL });

      const leaks = await runAndCollectLeaks(repo, CONDUCTOR_ENV);

      // The agent really printed every secret and was given the prompt as written.
      const request = codex.server.requests.find((r) => r.prompt.includes("[leaky-codex]"));
      expect(request?.prompt).toContain(PROMPT);
      const printed = codex.server.requests.flatMap((r) => r.toolOutputs).join("\n");
      for (const secret of PRINTED) expect(printed).toContain(secret);
      expect(leaks).toEqual({});
    });
  });

  it("gives a command agent its prompt as written, while prompt.md and the commit have it redacted", async () => {
    const script = [
      'cp "$CONDUCTOR_PROMPT_FILE" "$OUT/from-file.txt"',
      'printf "%s" "$CONDUCTOR_PROMPT_FILE" > "$OUT/file-path.txt"',
      'printf "%s" "$CONDUCTOR_PROMPT" > "$OUT/from-env.txt"',
      "echo done > done.txt",
      'echo "read the prompt"',
    ].join("; ");
    repo = await repoWithConfig(
      {
        agent: { kind: "command", command: script },
        workspaces: { copy: [".env.local"] },
        tasks: [{ id: "deploy", prompt: PROMPT }],
      },
      { ".gitignore": ".env.local\n" },
    );
    await repo.write({ ".env.local": ENV_LOCAL });
    const out = path.join(repo.home, "agent-saw");
    await mkdir(out);

    const leaks = await runAndCollectLeaks(repo, { ...CONDUCTOR_ENV, OUT: out });

    expect(readFileSync(path.join(out, "from-file.txt"), "utf8")).toBe(PROMPT);
    expect(readFileSync(path.join(out, "from-env.txt"), "utf8")).toBe(PROMPT);
    // The private copy the agent read is gone once the step ended.
    expect(existsSync(readFileSync(path.join(out, "file-path.txt"), "utf8"))).toBe(false);
    const runDir = path.join(repo.root, ".conductor", "runs", latestSummary(repo.root).runId);
    expect(readFileSync(path.join(runDir, "workspaces", "deploy", "prompt.md"), "utf8")).toBe(
      "Deploy with [redacted] and report back",
    );
    // The subject is made from the prompt (its exact shape is the commit message's business).
    expect(await repo.git("log", "-1", "--format=%s", "conductor/deploy")).toMatch(
      /with \[redacted\] and report back$/,
    );
    expect(leaks).toEqual({});
  });

  describe("with the real claude", () => {
    const routes: Record<string, readonly ClaudeReply[]> = {};
    const claude = useScriptedClaude((request) => claudeMarkerScript(routes)(request));

    it("redacts escaped and decoded secrets the agent printed and said, and secrets in its prompt", async () => {
      routes["[leaky-claude]"] = [
        { kind: "bash", command: PRINT_SECRETS },
        { kind: "message", text: CONFESSION },
      ];
      repo = await repoWithConfig(
        {
          agent: { kind: "claude", model: CLAUDE_MODEL, timeout: "2m" },
          workspaces: { copy: [".env.local"] },
          tasks: [{ id: "deploy", prompt: `${PROMPT} [leaky-claude]` }],
        },
        { ".gitignore": ".env.local\n" },
      );
      await repo.write({ ".env.local": ENV_LOCAL });

      const leaks = await runAndCollectLeaks(repo, {
        ...(await claude.env(repo.home)),
        ...CONDUCTOR_ENV,
      });

      const request = claude.server.requests.find((r) => r.prompt.includes("[leaky-claude]"));
      expect(request?.prompt).toContain(PROMPT);
      const printed = claude.server.requests.flatMap((r) => r.toolResults).join("\n");
      for (const secret of PRINTED) expect(printed).toContain(secret);
      expect(leaks).toEqual({});
    });
  });
});
