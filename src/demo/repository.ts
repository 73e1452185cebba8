import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { git } from "../git/worktree.js";

/** A small Node.js project for the demo: tests pass, `average([])` has a bug, no greeting yet. */
const FILES: Record<string, string> = {
  "package.json": `${JSON.stringify({ name: "demo-app", private: true, type: "module", scripts: { test: "node --test" } }, null, 2)}\n`,
  "src/math.js": [
    "export function sum(values) {",
    "  return values.reduce((total, value) => total + value, 0);",
    "}",
    "",
    "export function average(values) {",
    "  return sum(values) / values.length;",
    "}",
    "",
  ].join("\n"),
  "test/math.test.js": [
    'import assert from "node:assert/strict";',
    'import { test } from "node:test";',
    'import { sum } from "../src/math.js";',
    "",
    'test("sum adds numbers", () => {',
    "  assert.equal(sum([1, 2, 3]), 6);",
    "});",
    "",
  ].join("\n"),
  "server.js": [
    'import { createServer } from "node:http";',
    'import { sum } from "./src/math.js";',
    "",
    "// The dev server a reviewer starts with `conductor serve`: each workspace on its own port.",
    "const port = Number(process.env.CONDUCTOR_PORT ?? 3000);",
    "createServer((request, response) => {",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: source text of the demo's server.js
    '  response.end(`demo-app (${process.env.CONDUCTOR_WORKSPACE_NAME ?? "main"}): 1 + 2 = ${sum([1, 2])}\\n`);',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: source text of the demo's server.js
    '}).listen(port, "127.0.0.1", () => console.log(`listening on http://127.0.0.1:${port}`));',
    "",
  ].join("\n"),
  "README.md": "# demo-app\n\nA tiny project that conductor's demo works on.\n",
  "AGENTS.md":
    "# Notes for agents\n\n- Keep functions small and tested with node:test.\n- Run `node --test` before you finish.\n",
  ".gitignore": ".env.local\nnode_modules/\n",
};

/** A gitignored file the demo copies into every workspace; its value must never show in logs. */
export const DEMO_SECRET = "demo-secret-4f2a9c71";

/** Creates the demo repository at `root`: the project above, committed on `main`, plus `.env.local`. */
export async function createDemoRepository(root: string): Promise<void> {
  await mkdir(root, { recursive: true });
  for (const [file, content] of Object.entries(FILES)) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), content);
  }
  await writeFile(path.join(root, ".env.local"), `DEMO_API_KEY=${DEMO_SECRET}\n`);
  await git(root, ["init", "--quiet", "--initial-branch=main"]);
  await git(root, ["add", "--all"]);
  await git(root, [
    "-c",
    "user.name=conductor demo",
    "-c",
    "user.email=demo@conductor.invalid",
    "-c",
    "commit.gpgSign=false",
    "commit",
    "--quiet",
    "-m",
    "demo-app: initial commit",
  ]);
}
