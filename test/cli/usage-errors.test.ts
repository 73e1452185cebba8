// Mistakes on the command line itself exit 2 at every depth of commands, with commander's message
// printed once: nested subcommands (`cache list`, `import issues`) as well as top-level ones.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conductor } from "../helpers/cli.js";
import { createTestRepo, type TestRepo } from "../helpers/git-repo.js";

let repo: TestRepo;

beforeAll(async () => {
  repo = await createTestRepo();
});

afterAll(async () => {
  await repo.remove();
});

const run = (args: string[]) => conductor(args, { cwd: repo.root, home: repo.home });

describe("unknown options", () => {
  it.each(["status", "report merge", "cache list", "cache clean", "import issues", "import prs"])(
    "conductor %s --bogus exits 2",
    async (command) => {
      const result = await run([...command.split(" "), "--bogus"]);
      expect(result.exitCode, result.all).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr.match(/unknown option '--bogus'/g)).toHaveLength(1);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    },
  );
});
