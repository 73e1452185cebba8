// Conflict forecast: `conductor conflicts --json` on a finished run of 20 workspaces (each pair
// and each against main, 210 merges). Every workspace adds a file of its own and rewrites one of
// five shared files, so four workspaces share each: 30 pairs conflict, 160 do not. Target: under
// a second. Baseline: the same 210 `git merge-tree --write-tree` calls one after another.
import path from "node:path";
import {
  benchEnv,
  createRepo,
  freshHome,
  interleave,
  log,
  removeDir,
  resultRow,
  sh,
  tempDir,
  timed,
  timedConductor,
  writeConfig,
} from "./lib.mjs";

const WORKSPACES = 20;
const SHARED = 5;

export async function run({ runs }) {
  const base = tempDir("conflicts");
  const repo = path.join(base, "repo");
  const files = { "README.md": "# conflicts\n" };
  for (let i = 0; i < SHARED; i++) files[`shared/part-${i}.txt`] = `part ${i}\n`;
  for (let i = 0; i < 200; i++) files[`src/module-${i}.ts`] = `export const value${i} = ${i};\n`;
  createRepo(repo, files);
  const env = benchEnv(freshHome(base, "home"));
  const config = writeConfig(path.join(base, "config"), {
    version: 1,
    concurrency: 4,
    workspaces: { dir: path.join(base, "ws") },
    agent: {
      kind: "command",
      command:
        'echo "$CONDUCTOR_TASK_ID" > "own-$CONDUCTOR_TASK_ID.txt"; echo "$CONDUCTOR_TASK_ID" > "shared/part-$PART.txt"',
    },
    tasks: Array.from({ length: WORKSPACES }, (_, i) => ({
      id: `ws-${String(i + 1).padStart(2, "0")}`,
      prompt: "edit files",
      env: { PART: String(i % SHARED) },
    })),
  });
  const options = { cwd: repo, env, outFile: path.join(base, "out.txt") };
  log(`conflicts: running ${WORKSPACES} workspaces`);
  await timedConductor(["-c", config, "run", "--output", "plain"], options);
  const branches = sh(
    "git",
    ["for-each-ref", "--format=%(refname:short)", "refs/heads/conductor/"],
    {
      cwd: repo,
    },
  )
    .split("\n")
    .filter(Boolean);
  if (branches.length !== WORKSPACES) throw new Error(`expected ${WORKSPACES} branches`);
  const merges = branches.map(
    (branch) => `git merge-tree --write-tree --name-only --no-messages main ${branch}`,
  );
  for (let a = 0; a < branches.length; a++)
    for (let b = a + 1; b < branches.length; b++)
      merges.push(
        `git merge-tree --write-tree --name-only --no-messages ${branches[a]} ${branches[b]}`,
      );
  const baselineScript = merges.map((line) => `${line} >/dev/null || true`).join("\n");

  let conflicted;
  const samples = await interleave(runs, {
    conductor: {
      measure: async () => {
        const result = await timedConductor(["-c", config, "conflicts", "--json"], options);
        const forecast = JSON.parse(result.output);
        conflicted = forecast.pairs.filter((pair) => !pair.clean).length;
        return result.ms;
      },
    },
    baseline: {
      measure: async () => (await timed("sh", ["-c", baselineScript], options)).ms,
    },
  });
  removeDir(base);
  const expected = (SHARED * ((WORKSPACES / SHARED) * (WORKSPACES / SHARED - 1))) / 2;
  if (conflicted !== expected)
    throw new Error(`expected ${expected} conflicting pairs, got ${conflicted}`);
  return [
    resultRow({
      id: "conflicts-20",
      benchmark: `Conflict forecast: \`conflicts --json\` of ${WORKSPACES} workspaces (${merges.length} merges)`,
      unit: "ms",
      conductor: samples.conductor,
      baseline: samples.baseline,
      baselineLabel: `${merges.length} git merge-tree calls in a row`,
      target: { on: "conductor", max: 1000, below: true, text: "< 1000 ms" },
      notes: [`${conflicted} of ${merges.length - WORKSPACES} pairs conflict, as planned`],
    }),
  ];
}
