import { Command } from "commander";
import { UsageError } from "../../errors.js";
import { servePageUntilInterrupted, startPage } from "../page.js";
import { chosenRun, RUN_OPTION_HELP } from "../run-choice.js";

/** `conductor ui`: a local review page of a run, live while it runs, until Ctrl-C. */
export function uiCommand(): Command {
  return new Command("ui")
    .description(
      "serve a review page of a run on 127.0.0.1 (live during the run): diffs, logs, actions",
    )
    .option("--run <id>", RUN_OPTION_HELP)
    .option(
      "--port <port>",
      "port on 127.0.0.1 (default: a free one from conductor's port registry)",
    )
    .option("--open", "open the page in the default browser")
    .addHelpText(
      "after",
      "\nThe address carries a token that changes at every start; only this machine can reach the\n" +
        "page. Its actions run the same commands as the terminal (continue, archive, pr, merge,\n" +
        "serve). Ctrl-C stops the page and the dev servers it started.",
    )
    .action(async (options: { run?: string; port?: string; open?: boolean }, command: Command) => {
      const port = options.port === undefined ? undefined : parsePort(options.port);
      const { root, run } = await chosenRun(command, options.run);
      const page = await startPage({ root, runId: run.runId, port, open: options.open });
      await servePageUntilInterrupted(page);
    });
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) {
    throw new UsageError(`--port ${text} is not a port number (1-65535)`);
  }
  return port;
}
