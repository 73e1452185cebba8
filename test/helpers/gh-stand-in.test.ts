import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import {
  installGh,
  issue,
  issueComment,
  issueList,
  issueView,
  prCreate,
  prList,
  pullRequest,
  scenarios,
} from "./gh-stand-in.js";

let dir: string | undefined;

afterEach(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function tempDir(): Promise<string> {
  dir = await mkdtemp(path.join(os.tmpdir(), "gh-stand-in-"));
  return dir;
}

async function run(PATH: string, args: string[], cwd = os.tmpdir()) {
  return execa("gh", args, { env: { PATH }, cwd, reject: false, extendEnv: false });
}

describe("the gh stand-in", () => {
  it("is absent when installed without a scenario: gh is not on the PATH", async () => {
    const gh = await installGh(await tempDir(), undefined);
    const result = await execa("sh", ["-c", "command -v gh || echo none"], {
      env: { PATH: gh.path },
      extendEnv: false,
    });
    expect(result.stdout).toBe("none");
    expect(
      (await execa("sh", ["-c", "command -v git node"], { env: { PATH: gh.path } })).stdout,
    ).toContain("git");
  });

  it("answers auth status as logged out with gh's exit code and words", async () => {
    const gh = await installGh(await tempDir(), scenarios.loggedOut());
    const result = await run(gh.path, ["auth", "status"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("You are not logged into any GitHub hosts");
    expect(await gh.calls()).toMatchObject([{ args: ["auth", "status"], rule: 0, exitCode: 1 }]);
  });

  it("prints only the --json fields asked for and refuses unknown ones as gh does", async () => {
    const gh = await installGh(
      await tempDir(),
      scenarios.failingAndPassingChecks("conductor/feature", "a".repeat(40)),
    );
    const view = await run(gh.path, [
      "pr",
      "view",
      "conductor/feature",
      "--json",
      "state,statusCheckRollup",
    ]);
    expect(view.exitCode, view.stderr).toBe(0);
    const parsed = JSON.parse(view.stdout) as Record<string, unknown>;
    expect(Object.keys(parsed).sort()).toEqual(["state", "statusCheckRollup"]);
    expect(parsed.statusCheckRollup).toMatchObject([
      { __typename: "CheckRun", name: "build", conclusion: "SUCCESS" },
      { __typename: "CheckRun", name: "test", conclusion: "FAILURE" },
    ]);
    const unknown = await run(gh.path, ["pr", "view", "conductor/feature", "--json", "checks"]);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain('Unknown JSON field: "checks"');
    const jq = await run(gh.path, [
      "pr",
      "view",
      "conductor/feature",
      "--json",
      "state",
      "-q",
      ".",
    ]);
    expect(jq.exitCode).toBe(4);
  });

  it("fails loudly on a call no rule answers and records it as unmatched", async () => {
    const gh = await installGh(await tempDir(), scenarios.noPullRequest("conductor/feature"));
    const other = await run(gh.path, ["pr", "view", "conductor/other", "--json", "state"]);
    expect(other.exitCode).toBe(1);
    expect(other.stderr).toContain("gh stand-in: no scenario answers");
    const none = await run(gh.path, ["pr", "view", "conductor/feature", "--json", "state"]);
    expect(none.stderr).toBe('no pull requests found for branch "conductor/feature"');
    expect((await gh.unmatched()).map((call) => call.args[2])).toEqual(["conductor/other"]);
  });

  it("keeps the body file of pr create and answers issue and pull request lists", async () => {
    const gh = await installGh(await tempDir(), {
      rules: [
        prCreate(),
        issueView(
          12,
          issue(12, "Crash on empty input", { comments: [issueComment("a", "same here")] }),
        ),
        issueList([issue(12, "Crash on empty input"), issue(14, "Dark mode")], {
          "--label": "bug",
        }),
        prList([pullRequest({ number: 3, headRefName: "fix/typo" })]),
      ],
    });
    const body = path.join(dir as string, "body.md");
    await writeFile(body, "### Task\n\nhello\n");
    const created = await run(gh.path, ["pr", "create", "--title", "t", "--body-file", body]);
    expect(created.stdout).toBe("https://github.com/acme/widgets/pull/7");
    expect((await gh.calls())[0]?.body).toBe("### Task\n\nhello\n");
    const viewed = await run(gh.path, ["issue", "view", "12", "--json", "title,comments"]);
    expect(JSON.parse(viewed.stdout)).toMatchObject({
      title: "Crash on empty input",
      comments: [{ author: { login: "a" }, body: "same here" }],
    });
    const listed = await run(gh.path, [
      "issue",
      "list",
      "--label",
      "bug",
      "--json",
      "number,title",
    ]);
    expect(JSON.parse(listed.stdout)).toEqual([
      { number: 12, title: "Crash on empty input" },
      { number: 14, title: "Dark mode" },
    ]);
    // The rule asks for --label bug: another label is not scripted.
    expect(
      (await run(gh.path, ["issue", "list", "--label", "x", "--json", "number"])).exitCode,
    ).toBe(1);
    const prs = await run(gh.path, [
      "pr",
      "list",
      "--state",
      "open",
      "--json",
      "number,headRefName",
    ]);
    expect(JSON.parse(prs.stdout)).toEqual([{ number: 3, headRefName: "fix/typo" }]);
  });

  it("answers a rule only `times` times, then the next matching one", async () => {
    const gh = await installGh(await tempDir(), {
      rules: [
        { command: ["pr", "view"], times: 1, answer: { json: pullRequest({ state: "OPEN" }) } },
        { command: ["pr", "view"], answer: { json: pullRequest({ state: "MERGED" }) } },
      ],
    });
    const states: string[] = [];
    for (let i = 0; i < 2; i++) {
      const result = await run(gh.path, ["pr", "view", "7", "--json", "state"]);
      states.push((JSON.parse(result.stdout) as { state: string }).state);
    }
    expect(states).toEqual(["OPEN", "MERGED"]);
  });
});
