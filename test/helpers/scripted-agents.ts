import { rm } from "node:fs/promises";
import { afterAll, beforeAll } from "vitest";
import {
  type AnthropicServer,
  type Script as ClaudeScript,
  claudeOfflineEnv,
  prepareClaudeHome,
  startAnthropicServer,
} from "../../src/model-server/anthropic.js";
import {
  codexProviderConfig,
  type ModelServer,
  prepareCodexHome,
  SCRIPTED_MODEL,
  type Script,
  startModelServer,
} from "../../src/model-server/server.js";

/**
 * The real codex and claude against scripted model servers, one server per test file: call
 * {@link useScriptedCodex} or {@link useScriptedClaude} at the top level of the file.
 */

/** The real codex against a scripted model server, shared by the tests of one file. */
export interface ScriptedCodex {
  /** The running server (its `requests` are what codex asked). */
  readonly server: ModelServer;
  /** A private CODEX_HOME that keeps codex offline. */
  readonly codexHome: string;
  /** conductor.yaml's `env` and `agent` for codex against the server (scripted model, 2 min). */
  config(): { env: { CODEX_HOME: string }; agent: Record<string, unknown> };
}

/** Starts a server answering with `script` and a CODEX_HOME before the file's tests. */
export function useScriptedCodex(script: Script): ScriptedCodex {
  const server = serverOfFile(() => startModelServer({ script }));
  let codexHome: string | undefined;
  beforeAll(async () => {
    codexHome = await prepareCodexHome();
  });
  afterAll(async () => {
    // codex keeps sessions and logs in its home: a run of the suite leaves none behind.
    if (codexHome !== undefined) await rm(codexHome, { recursive: true, force: true });
  });
  return {
    get server() {
      return server();
    },
    get codexHome() {
      return ready(codexHome);
    },
    config() {
      return {
        env: { CODEX_HOME: ready(codexHome) },
        agent: {
          kind: "codex",
          model: SCRIPTED_MODEL,
          timeout: "2m",
          config: codexProviderConfig(server().url),
        },
      };
    },
  };
}

/** The real claude against a scripted Messages server, shared by the tests of one file. */
export interface ScriptedClaude {
  /** The running server (its `requests` are what claude asked). */
  readonly server: AnthropicServer;
  /** Prepares claude's private home under `home`; the environment that points claude at the server. */
  env(home: string): Promise<Record<string, string>>;
}

/** Starts a Messages server answering with `script` before the file's tests. */
export function useScriptedClaude(script: ClaudeScript): ScriptedClaude {
  const server = serverOfFile(() => startAnthropicServer({ script }));
  return {
    get server() {
      return server();
    },
    async env(home) {
      await prepareClaudeHome(home);
      return claudeOfflineEnv(server().url, home);
    },
  };
}

/** A server started before the file's tests and closed after them. */
function serverOfFile<S extends { close(): Promise<void> }>(start: () => Promise<S>): () => S {
  let server: S | undefined;
  beforeAll(async () => {
    server = await start();
  });
  afterAll(async () => {
    await server?.close();
  });
  return () => ready(server);
}

function ready<T>(value: T | undefined): T {
  if (value === undefined) throw new Error("the scripted agent is ready once beforeAll ran");
  return value;
}
