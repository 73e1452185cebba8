import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { stringify } from "yaml";
import {
  codexProviderConfig,
  prepareCodexHome,
  SCRIPTED_MODEL,
  startModelServer,
} from "../model-server/server.js";
import { BEST_OF_TASKS, bestOfScript } from "./best-of.js";
import { createDemoRepository } from "./repository.js";
import { DEMO_TASKS, demoScript, demoTokensNeeded } from "./script.js";

/** Where the demo put things, for the closing message. */
export interface DemoSetup {
  /** The repository the demo works on. */
  repo: string;
  /** The demo's conductor.yaml (outside the repository). */
  configFile: string;
  /** Folder of the demo's worktrees, CODEX_HOME and config. */
  dir: string;
  /** Stops the scripted model server. */
  stop(): Promise<void>;
}

/**
 * Prepares everything the offline demo needs: a throwaway repository (or the user's, with
 * `repo`), a scripted model server on a free loopback port, a private CODEX_HOME, and a
 * conductor.yaml with three tasks that points the real codex binary at that server.
 */
export async function prepareDemo(options: {
  repo?: string | undefined;
  /** The best-of demo: two attempts at one task, a judge, a dependent starting from the winner. */
  bestOf?: boolean | undefined;
  /** The budget demo: the three tasks one at a time, with a token budget of half what they need. */
  budget?: boolean | undefined;
}): Promise<DemoSetup> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "conductor-demo-"));
  const repo = options.repo === undefined ? path.join(dir, "repo") : path.resolve(options.repo);
  if (options.repo === undefined) await createDemoRepository(repo);
  const server = await startModelServer({
    script: options.bestOf === true ? bestOfScript() : demoScript(),
  });
  const codexHome = await prepareCodexHome(path.join(dir, "codex-home"));
  const configFile = path.join(dir, "conductor.yaml");
  const copy = existsSync(path.join(repo, ".env.local")) ? [".env.local"] : [];
  const config = {
    version: 1,
    concurrency: options.budget === true ? 1 : 3,
    ...(options.budget === true
      ? {
          budget: { tokens: Math.floor(demoTokensNeeded() / 2), grace: "5s" },
          prices: { [SCRIPTED_MODEL]: { input: 1.25, output: 10, cached_input: 0.125 } },
        }
      : {}),
    env: { CODEX_HOME: codexHome },
    workspaces: { dir: path.join(dir, "workspaces"), branch: "conductor-demo/{{task}}", copy },
    agent: {
      kind: "codex",
      model: SCRIPTED_MODEL,
      timeout: "5m",
      config: codexProviderConfig(server.url),
    },
    scripts: {
      setup: 'echo "preparing $CONDUCTOR_WORKSPACE_NAME with ports from $CONDUCTOR_PORT"',
      check: "node --test",
      run: "node server.js",
      archive: 'echo "archiving $CONDUCTOR_WORKSPACE_NAME"',
    },
    tasks: (options.bestOf === true ? BEST_OF_TASKS : DEMO_TASKS).map((task) => ({
      id: task.id,
      prompt: task.prompt,
      ...("attempts" in task && task.attempts !== undefined ? { attempts: task.attempts } : {}),
      ...(task.dependsOn ? { depends_on: task.dependsOn } : {}),
    })),
  };
  await writeFile(
    configFile,
    `# conductor demo: the real codex binary against a scripted local model server (no network, no API key).\n${stringify(config)}`,
  );
  return { repo, configFile, dir, stop: () => server.close() };
}
