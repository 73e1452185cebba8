/**
 * Conductor's own environment, read once while a command runs (see
 * {@link whileEnvironmentSettled}). Reading process.env whole goes through Node for each variable:
 * about 90 µs as text, for every script the shell pool runs (it serves a script only by a shell
 * started with the same environment), and again for every program started with it, a third of
 * a millisecond per workspace of a run.
 */
let settled: { env: Readonly<NodeJS.ProcessEnv>; text: string } | undefined;

/** Conductor's own environment: as read once while settled, else process.env now. */
export function ownEnvironment(): Readonly<NodeJS.ProcessEnv> {
  return settled?.env ?? process.env;
}

/** {@link ownEnvironment} as text, the shell pool's key. */
export function ownEnvironmentText(): string {
  return settled?.text ?? JSON.stringify(process.env);
}

/**
 * Runs `work` with conductor's own environment read once, at its start: for a command of the
 * command line, which changes process.env only before (src/cli/restore-environment.ts). Code
 * that changes process.env meanwhile must not expect the programs and scripts conductor starts
 * to see the change.
 */
export async function whileEnvironmentSettled<T>(work: () => Promise<T>): Promise<T> {
  const outer = settled;
  const env = Object.freeze({ ...process.env });
  settled = { env, text: JSON.stringify(env) };
  try {
    return await work();
  } finally {
    settled = outer;
  }
}
