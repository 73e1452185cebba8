// The environment conductor's looks at an agent's commits run git with: its config goes after the
// user's own GIT_CONFIG_COUNT entries, and git reads both.
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { storedHistory } from "../../src/git/run-git.js";
import { createTestRepo, gitEnv, type TestRepo } from "../helpers/git-repo.js";

let repo: TestRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

describe("storedHistory", () => {
  it("adds its config after the user's GIT_CONFIG_COUNT entries, and git sees both", async () => {
    repo = await createTestRepo();
    const user = {
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "safe.directory",
      GIT_CONFIG_VALUE_0: "*",
    };
    const env = { ...gitEnv(repo.home), ...user, ...storedHistory({ allCommits: true }, user) };
    expect(env.GIT_CONFIG_COUNT).toBe("3");
    const { stdout } = await execa("git", ["config", "--list", "--show-scope"], {
      cwd: repo.root,
      env,
    });
    const command = stdout.split("\n").filter((line) => line.startsWith("command\t"));
    expect(command).toEqual([
      "command\tsafe.directory=*",
      "command\tcore.commitgraph=false",
      "command\tcore.usereplacerefs=false",
    ]);
    expect(env).toMatchObject({
      GIT_NO_REPLACE_OBJECTS: "1",
      GIT_GRAFT_FILE: "/dev/null",
      GIT_SHALLOW_FILE: "/dev/null",
    });
  });

  it("keeps .git/shallow for ancestry questions, and starts at 0 without a count of the user's", () => {
    const env = storedHistory({}, {});
    expect(env.GIT_SHALLOW_FILE).toBeUndefined();
    expect(env).toMatchObject({ GIT_CONFIG_COUNT: "2", GIT_CONFIG_KEY_0: "core.commitGraph" });
  });
});
