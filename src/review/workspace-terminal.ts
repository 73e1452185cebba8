import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { FoundWorkspace } from "../executor/find-workspace.js";
import { TERMINAL_MARKER_VARIABLE } from "../executor/leftovers.js";
import { runOnTerminal, type TerminalOutcome } from "../process/terminal.js";
import { reserveWorkspacePorts, scriptEnv } from "./workspace-process.js";
import { requireWorktree } from "./worktree-presence.js";

/** What to start in a workspace: the user's shell, or one command (argv, no shell). */
export type TerminalCommand = { kind: "shell" } | { kind: "exec"; argv: readonly string[] };

/** What {@link runInWorkspace} needs. */
export interface WorkspaceTerminalOptions {
  found: FoundWorkspace;
  homeDir: string;
  command: TerminalCommand;
  /** The user's shell (`$SHELL`); `/bin/sh` when unset. */
  shell: string | undefined;
  /** Told the worktree and port block before the program starts. */
  onStart(info: { cwd: string; port: number; count: number }): void;
}

/**
 * Runs the user's shell or one command in a workspace's worktree, on the terminal, with exactly
 * the environment the workspace's scripts get (`scriptEnv`: CONDUCTOR_*, its port block, the
 * config's env). The shell's prompt names the workspace; nothing it started outlives it.
 */
export async function runInWorkspace(options: WorkspaceTerminalOptions): Promise<TerminalOutcome> {
  const { found } = options;
  const cwd = await requireWorktree(found);
  const reservation = await reserveWorkspacePorts(found, options.homeDir);
  const env = {
    ...scriptEnv(found, reservation.start),
    // Marked so that resuming or continuing the run does not take it for a leftover of a crash.
    [TERMINAL_MARKER_VARIABLE]: "1",
  };
  options.onStart({ cwd, port: reservation.start, count: reservation.count });
  if (options.command.kind === "exec") {
    const [file, ...args] = options.command.argv;
    return runOnTerminal({ file: file as string, args, cwd, env });
  }
  const shell = options.shell || "/bin/sh";
  const rcDir = await mkdtemp(path.join(os.tmpdir(), "conductor-shell-"));
  try {
    const prompt = await promptSetup(shell, rcDir, found.workspace.name);
    return await runOnTerminal({
      file: shell,
      args: prompt.args,
      cwd,
      env: { ...env, ...prompt.env },
    });
  } finally {
    await rm(rcDir, { recursive: true, force: true });
  }
}

/** The escape sequence that sets a terminal's window title. */
export function terminalTitle(workspace: string): string {
  // A control character in the name would end the sequence early.
  const printable = [...workspace].filter((char) => char >= " " && char !== "\u007f").join("");
  return `\u001b]0;conductor: ${printable}\u0007`;
}

/**
 * Makes the shell's prompt start with `(conductor:<workspace>)`. bash and zsh read the user's
 * own startup files first (which usually set the prompt) through a startup file of ours; other
 * shells get PS1. The prompt reads the name from CONDUCTOR_WORKSPACE_NAME at display time, so
 * the name is never part of shell code.
 */
async function promptSetup(
  shell: string,
  rcDir: string,
  workspace: string,
): Promise<{ args: string[]; env: Record<string, string> }> {
  const name = path.basename(shell);
  if (name === "bash") {
    const rcFile = path.join(rcDir, "bashrc");
    await writeFile(
      rcFile,
      [
        '[ -f "$HOME/.bashrc" ] && . "$HOME/.bashrc"',
        "PS1='(conductor:$CONDUCTOR_WORKSPACE_NAME) '\"$PS1\"",
        "",
      ].join("\n"),
    );
    return { args: ["--rcfile", rcFile, "-i"], env: {} };
  }
  if (name === "zsh") {
    // zsh reads its startup files from ZDOTDIR: ours read the user's, then set the prompt.
    const user = '"$CONDUCTOR_USER_ZDOTDIR"';
    await writeFile(path.join(rcDir, ".zshenv"), `[ -f ${user}/.zshenv ] && . ${user}/.zshenv\n`);
    await writeFile(
      path.join(rcDir, ".zshrc"),
      [
        `ZDOTDIR=${user}`,
        '[ -f "$ZDOTDIR/.zshrc" ] && . "$ZDOTDIR/.zshrc"',
        'PROMPT="(conductor:$CONDUCTOR_WORKSPACE_NAME) $PROMPT"',
        "",
      ].join("\n"),
    );
    return {
      args: ["-i"],
      env: { ZDOTDIR: rcDir, CONDUCTOR_USER_ZDOTDIR: process.env.ZDOTDIR ?? os.homedir() },
    };
  }
  return { args: ["-i"], env: { PS1: `(conductor:${workspace}) $ ` } };
}
