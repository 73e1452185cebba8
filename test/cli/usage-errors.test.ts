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

describe("help", () => {
  it("conductor help nope says the command is unknown, as conductor nope does", async () => {
    const direct = await run(["nope"]);
    const help = await run(["help", "nope"]);
    expect(help.exitCode, help.all).toBe(2);
    expect(help.stdout).toBe("");
    expect(help.stderr).toBe(direct.stderr);
    expect(help.stderr).toMatch(/^error: unknown command 'nope'\n/);
    expect(help.stderr).not.toContain("Usage:");
  });

  it("conductor help stauts suggests the command meant, as conductor stauts does", async () => {
    const direct = await run(["stauts"]);
    const help = await run(["help", "stauts"]);
    expect(help.exitCode, help.all).toBe(2);
    expect(help.stderr).toBe(direct.stderr);
    expect(help.stderr).toContain("error: unknown command 'stauts'\n(Did you mean status?)");
  });

  it("conductor cache help nope says the command is unknown, as conductor cache nope does", async () => {
    const direct = await run(["cache", "nope"]);
    const help = await run(["cache", "help", "nope"]);
    expect(help.exitCode, help.all).toBe(2);
    expect(help.stderr).toBe(direct.stderr);
    expect(help.stderr).toContain("error: unknown command 'nope'");
    expect((await run(["help", "cache", "nope"])).stderr).toBe(direct.stderr);
  });

  it.each([
    [["help"], "Usage: conductor [options] [command]"],
    [["help", "status"], "Usage: conductor status [options]"],
    [["help", "cache"], "Usage: conductor cache [options] [command]"],
    [["cache", "help", "list"], "Usage: conductor cache list [options]"],
    [["help", "cache", "list"], "Usage: conductor cache list [options]"],
  ])("conductor %j prints the help asked for and exits 0", async (args, usage) => {
    const result = await run(args);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain(usage);
    expect(result.stderr).toBe("");
  });

  it("is still listed last among the commands, as commander lists its own", async () => {
    for (const args of [["--help"], ["cache", "--help"]]) {
      const commands = (await run(args)).stdout.split("Commands:\n")[1] ?? "";
      const names = commands.split("\n").filter((line) => /^ {2}\S/.test(line));
      expect(names.at(-1), commands).toMatch(/^ {2}help \[command\] +display help for command$/);
    }
  });

  it("is listed once, in the program's help and in a command's", async () => {
    for (const args of [["--help"], ["cache", "--help"], ["help"], ["help", "cache"]]) {
      const result = await run(args);
      expect(result.stdout.match(/^ {2}help \[command\]/gm), result.stdout).toHaveLength(1);
    }
  });
});
