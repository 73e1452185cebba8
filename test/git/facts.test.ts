import { afterEach, describe, expect, it } from "vitest";
import { RepositoryError } from "../../src/errors.js";
import { askRepoDefaults, gatherRepoFacts } from "../../src/git/facts.js";
import { createTestRepo, type TestRepo } from "../helpers/git-repo.js";

let repo: TestRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

async function headOf(r: TestRepo, ref: string): Promise<string> {
  return (await r.git("rev-parse", ref)).trim();
}

// The default-branch questions go out together (origin/HEAD and main at once); the answers must
// follow the documented order all the same: origin/HEAD, then main, then master, then HEAD's branch.
describe("gatherRepoFacts", () => {
  it("takes main, with its commit, in a repository without a remote", async () => {
    repo = await createTestRepo();
    const facts = await gatherRepoFacts(repo.root, undefined);
    expect(facts.defaultBranch).toBe("main");
    expect(facts.baseRef).toBe("main");
    expect(facts.baseCommit).toBe(await headOf(repo, "main"));
  });

  it("takes origin/HEAD's branch over an existing main", async () => {
    repo = await createTestRepo();
    await repo.git("branch", "trunk");
    await repo.write({ "trunk.txt": "only on main\n" });
    await repo.commitAll("main moves on");
    await repo.git("update-ref", "refs/remotes/origin/trunk", "trunk");
    await repo.git("symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/trunk");
    const facts = await gatherRepoFacts(repo.root, undefined);
    expect(facts.defaultBranch).toBe("trunk");
    expect(facts.baseCommit).toBe(await headOf(repo, "trunk"));
    expect(facts.baseCommit).not.toBe(await headOf(repo, "main"));
  });

  it("takes master when there is no main, and the checked-out branch when neither exists", async () => {
    repo = await createTestRepo();
    await repo.git("branch", "-m", "main", "master");
    expect((await gatherRepoFacts(repo.root, undefined)).defaultBranch).toBe("master");
    await repo.git("branch", "-m", "master", "develop");
    const facts = await gatherRepoFacts(repo.root, undefined);
    expect(facts.defaultBranch).toBe("develop");
    expect(facts.baseCommit).toBe(await headOf(repo, "develop"));
  });

  it("resolves a configured base beside the defaults, and refuses one that does not exist", async () => {
    repo = await createTestRepo();
    const first = await headOf(repo, "HEAD");
    await repo.git("tag", "v1");
    await repo.write({ "next.txt": "next\n" });
    await repo.commitAll("next");
    const defaults = askRepoDefaults(repo.root);
    const facts = await gatherRepoFacts(repo.root, "v1", defaults);
    expect(facts).toMatchObject({ defaultBranch: "main", baseRef: "v1", baseCommit: first });
    await expect(gatherRepoFacts(repo.root, "no-such-ref")).rejects.toThrow(RepositoryError);
  });
});
