import { UsageError } from "../errors.js";
import type { Reporter } from "../executor/events.js";
import type { RunState } from "../executor/types.js";

/** How a run shows its progress. */
export type OutputMode = "auto" | "tty" | "plain" | "json";

const MODES: readonly OutputMode[] = ["auto", "tty", "plain", "json"];

/** Checks `--output`. */
export function parseOutputMode(text: string): OutputMode {
  if ((MODES as readonly string[]).includes(text)) return text as OutputMode;
  throw new UsageError(`--output ${text} is not an output mode: use ${MODES.join(", ")}`);
}

/**
 * The live view on an interactive terminal, plain lines in CI or when piped (auto), or JSON lines.
 * Progress goes to stdout; errors to stderr. `initialState` is the state of a run being continued,
 * so the views show what an earlier session already finished. Only the chosen reporter's module
 * is loaded: listr2, which only the live view needs, costs start-up time everywhere else.
 */
export async function reporterFor(mode: OutputMode, initialState?: RunState): Promise<Reporter> {
  const write = (text: string) => {
    process.stdout.write(text);
  };
  const interactive = process.stdout.isTTY === true && !process.env.CI;
  // A terminal without a width (`script` without a size, some CI pseudo-terminals) reports 0
  // columns; the live view would wrap after every character there, so it gets plain lines.
  const hasWidth = (process.stdout.columns ?? 0) > 0;
  const wanted = mode === "auto" ? (interactive ? "tty" : "plain") : mode;
  const resolved = wanted === "tty" && !hasWidth ? "plain" : wanted;
  switch (resolved) {
    case "tty": {
      const { createLiveReporter } = await import("../report/live.js");
      return createLiveReporter({
        write,
        color: !process.env.NO_COLOR,
        ...(initialState ? { initialState } : {}),
      });
    }
    case "plain": {
      const { createPlainReporter } = await import("../report/plain.js");
      return createPlainReporter({
        write,
        color: interactive && !process.env.NO_COLOR,
        ...(initialState ? { initialState } : {}),
      });
    }
    case "json": {
      const { createJsonLinesReporter } = await import("../report/json-lines.js");
      return createJsonLinesReporter({ write });
    }
  }
}
