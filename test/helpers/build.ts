import { execa } from "execa";

/** Compiles conductor once before the tests, so they run the same dist/ that `npm ci` builds. */
export default async function build(): Promise<void> {
  await execa("npx", ["tsc", "-p", "tsconfig.build.json"], { stdio: "inherit" });
}
