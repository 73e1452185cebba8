/**
 * Templates in branch names, prompts and env values: `{{task}}`, `{{attempt}}`, `{{run}}`,
 * `{{matrix.KEY}}`. Anything else between double braces is an error, so a typo never silently
 * becomes part of a branch name or prompt.
 */

/** Values a template is filled with. `run` is undefined while planning without a run. */
export interface TemplateValues {
  task: string;
  attempt: number;
  run: string | undefined;
  matrix: Readonly<Record<string, string>>;
}

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** Names of the placeholders used in `text`, in order of appearance. */
export function placeholdersIn(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((match) => match[1] ?? "");
}

/**
 * Describes why `name` is not a placeholder this template can fill, or returns undefined when it is.
 * `matrixKeys` are the keys of the task's matrix.
 */
export function placeholderProblem(
  name: string,
  matrixKeys: readonly string[],
): string | undefined {
  if (name === "task" || name === "attempt" || name === "run") return undefined;
  if (name.startsWith("matrix.")) {
    const key = name.slice("matrix.".length);
    if (matrixKeys.includes(key)) return undefined;
    return matrixKeys.length === 0
      ? `{{${name}}} names a matrix key, but this task has no matrix`
      : `{{${name}}} names no key of this task's matrix (keys: ${matrixKeys.join(", ")})`;
  }
  return `unknown placeholder {{${name}}}; use {{task}}, {{attempt}}, {{run}} or {{matrix.KEY}}`;
}

/**
 * Fills every placeholder. A `{{run}}` without a run id stays as written, so a plan made before a
 * run shows where the id will go. Unknown placeholders must have been rejected by validation.
 */
export function renderTemplate(text: string, values: TemplateValues): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    if (name === "task") return values.task;
    if (name === "attempt") return String(values.attempt);
    if (name === "run") return values.run ?? whole;
    if (name.startsWith("matrix.")) {
      const value = values.matrix[name.slice("matrix.".length)];
      if (value !== undefined) return value;
    }
    throw new Error(`internal error: unvalidated placeholder ${whole}`);
  });
}
