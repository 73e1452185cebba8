import type { RepoSettings } from "./repo-settings.js";
import type { WrittenConfig } from "./written.js";

/** Where one effective setting came from, for `validate` and `plan` to show. */
export interface SettingSource {
  /** The setting as conductor.yaml names it, e.g. `scripts.setup`. */
  key: string;
  /** Its value as shown (globs joined with `, `). */
  value: string;
  /** The file it came from: the config file or a repository settings file. */
  file: string;
  /** The repository settings file whose value conductor.yaml overrides. */
  overrides?: string;
}

/**
 * conductor.yaml over the repository's own settings: each setting the config file leaves out is
 * taken from the settings files. Returns the merged written config and where every setting that
 * either side sets came from.
 */
export function layerRepoSettings(
  written: WrittenConfig,
  settings: RepoSettings,
  configFile: string,
): { written: WrittenConfig; sources: SettingSource[] } {
  const sources: SettingSource[] = [];
  const scripts = { ...(written.scripts ?? {}) };
  for (const name of ["setup", "run", "archive"] as const) {
    const own = scripts[name];
    const theirs = settings[name];
    if (own !== undefined) {
      sources.push({
        key: `scripts.${name}`,
        value: own,
        file: configFile,
        overrides: theirs?.file,
      });
    } else if (theirs !== undefined) {
      scripts[name] = theirs.value;
      sources.push({ key: `scripts.${name}`, value: theirs.value, file: theirs.file });
    }
  }
  if (scripts.run_mode !== undefined) {
    sources.push({
      key: "scripts.run_mode",
      value: scripts.run_mode,
      file: configFile,
      overrides: settings.runMode?.file,
    });
  } else if (settings.runMode !== undefined) {
    scripts.run_mode = settings.runMode.value;
    sources.push({
      key: "scripts.run_mode",
      value: settings.runMode.value,
      file: settings.runMode.file,
    });
  }
  const workspaces = { ...(written.workspaces ?? {}) };
  const copy = workspaces.copy;
  if (copy !== undefined) {
    const shown = copy.map((entry) => (typeof entry === "string" ? entry : entry.path));
    sources.push({
      key: "workspaces.copy",
      value: shown.join(", "),
      file: configFile,
      overrides: settings.copy?.file,
    });
  } else if (settings.copy !== undefined && settings.copy.value.length > 0) {
    workspaces.copy = settings.copy.value;
    sources.push({
      key: "workspaces.copy",
      value: settings.copy.value.join(", "),
      file: settings.copy.file,
    });
  }
  const merged: WrittenConfig = { ...written };
  if (Object.keys(scripts).length > 0) merged.scripts = scripts;
  if (Object.keys(workspaces).length > 0) merged.workspaces = workspaces;
  return { written: merged, sources };
}

/** `setup: npm install  (from .conductor/settings.toml)` lines, one per setting. */
export function describeSources(sources: readonly SettingSource[]): string[] {
  return sources.map((source) => {
    const name = source.key.replace(/^scripts\./, "");
    const from =
      source.overrides === undefined
        ? `from ${source.file}`
        : `from ${source.file}, over ${source.overrides}`;
    return `${name}: ${source.value}  (${from})`;
  });
}
