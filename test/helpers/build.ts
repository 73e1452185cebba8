import { execa } from "execa";

/** Builds conductor once before the tests, so they run the same dist/ that `npm ci` builds. */
export default async function build(): Promise<void> {
  await execa("npm", ["run", "build"], { stdio: "inherit" });
}
