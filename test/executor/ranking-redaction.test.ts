// ranking.json keeps the judge's reasons, which may quote a secret: it is written redacted.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { SelectionRecord } from "../../src/executor/events.js";
import { saveRanking } from "../../src/executor/selection/pick-winner.js";
import { KnownSecrets } from "../../src/secrets/known-secrets.js";

/** A secret with characters JSON escapes, as a judge's decoded answer may hold it. */
const SECRET = 'tok"en\\9f2-judge';

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("ranking.json", () => {
  it("takes known secrets out of the judge's reasons, keeping names and paths", async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "conductor-ranking-"));
    const secrets = new KnownSecrets([SECRET]);
    const record: SelectionRecord = {
      task: "fix",
      winner: "fix-2",
      ranking: { candidates: [], winner: "fix-2", decidedBy: "judge" },
      manual: false,
      branch: "conductor/fix",
      judge: {
        status: "chose",
        asked: ["fix", "fix-2"],
        reasons: `fix-2 reads ${SECRET} from the env`,
        promptFile: "selections/fix/judge-prompt.md",
      },
    };

    await saveRanking(dir, record, (text) => secrets.redact(text));

    const text = readFileSync(path.join(dir, "selections", "fix", "ranking.json"), "utf8");
    expect(text).not.toContain("9f2-judge");
    const saved = JSON.parse(text) as SelectionRecord;
    expect(saved.judge?.reasons).toBe("fix-2 reads [redacted] from the env");
    expect(saved).toMatchObject({ task: "fix", winner: "fix-2", branch: "conductor/fix" });
    expect(saved.judge?.asked).toEqual(["fix", "fix-2"]);
  });
});
