import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type ReviewRepo, reviewRepo, runAll } from "./rig.js";

let repo: ReviewRepo | undefined;

afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

// The run refuses to commit a file whose name holds a copied secret and names it
// `note-[redacted].txt`; the file stays in the worktree, uncommitted. The commands that list a
// worktree's uncommitted files afterwards must not print its name as it is.
describe("a secret in the name of an uncommitted file", () => {
  const secret = "zz-Secr3tValue-998877";

  async function leftBehind(): Promise<ReviewRepo> {
    const made = await reviewRepo(
      [
        {
          id: "named",
          agent: 'v=$(sed -n "s/^API_TOKEN=//p" .env.local); echo x > "note-$v.txt"',
        },
      ],
      { workspaces: { copy: [".env.local"] } },
    );
    await writeFile(path.join(made.root, ".env.local"), `API_TOKEN=${secret}\n`);
    await runAll(made);
    return made;
  }

  it("is not shown by checks (text and JSON) nor by merge's refusal", async () => {
    repo = await leftBehind();
    const checks = await repo.cli(["checks", "named"]);
    expect(checks.exitCode, checks.all).toBe(1);
    expect(checks.all).toContain("uncommitted file (not part of the merge): note-[redacted].txt");
    expect(checks.all).not.toContain(secret);
    const json = await repo.cli(["checks", "named", "--json"]);
    expect(json.all).toContain("note-[redacted].txt");
    expect(json.all).not.toContain(secret);
    const merge = await repo.cli(["merge", "named"]);
    expect(merge.exitCode, merge.all).toBe(1);
    expect(merge.all).toContain("note-[redacted].txt");
    expect(merge.all).not.toContain(secret);
  });

  it("is not shown by archive's refusal", async () => {
    repo = await leftBehind();
    const archive = await repo.cli(["archive", "named"]);
    expect(archive.exitCode, archive.all).toBe(1);
    expect(archive.all).toContain("1 uncommitted file: note-[redacted].txt");
    expect(archive.all).not.toContain(secret);
  });

  it("is not shown by spotlight, which brings the file over", async () => {
    repo = await leftBehind();
    const shown = await repo.cli(["spotlight", "named"]);
    expect(shown.exitCode, shown.all).toBe(0);
    expect(shown.all).toContain("(note-[redacted].txt)");
    expect(shown.all).not.toContain(secret);
    expect((await repo.cli(["spotlight", "--off"])).exitCode).toBe(0);
  });
});
