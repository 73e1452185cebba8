import { isMap, isSeq, parseDocument, stringify, type YAMLMap } from "yaml";

/** A task `conductor import` would add: its id and where it comes from. */
export interface ImportedTask {
  id: string;
  /** `issue` or `pr`. */
  key: "issue" | "pr";
  number: number;
  /** A prompt of its own (pull requests have no issue text to work from). */
  prompt?: string;
}

/** The new file text, what was added and what was left out (already there). */
export interface ImportResult {
  text: string;
  added: ImportedTask[];
  skipped: { task: ImportedTask; reason: string }[];
}

/**
 * Appends tasks to a conductor.yaml's `tasks:` list through yaml's Document API, so the file's
 * comments, order and formatting stay as they were. A task whose issue or pull request (or id)
 * is already in the file is skipped, never added twice. Pure: text in, text out.
 */
export function appendTasks(text: string, tasks: readonly ImportedTask[]): ImportResult {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new Error(`not valid YAML: ${doc.errors[0]?.message.split("\n")[0] ?? ""}`);
  }
  if (!isMap(doc.contents)) throw new Error("is not a map of settings (version: 1, tasks: …)");
  let list = doc.get("tasks", true);
  if (list === undefined || list === null) {
    doc.set("tasks", doc.createNode([]));
    list = doc.get("tasks", true);
  }
  if (!isSeq(list)) throw new Error("its tasks: is not a list");
  const existing = list.items.map((item, index) => {
    const map = isMap(item) ? (item as YAMLMap) : undefined;
    return {
      index,
      id: map?.get("id"),
      issue: map?.get("issue"),
      pr: map?.get("pr"),
    };
  });
  const added: ImportedTask[] = [];
  const skipped: ImportResult["skipped"] = [];
  for (const task of tasks) {
    const same = existing.find((entry) => entry[task.key] === task.number);
    const sameId = existing.find((entry) => entry.id === task.id);
    if (same !== undefined) {
      skipped.push({ task, reason: `already tasks[${same.index}] (${task.key}: ${task.number})` });
      continue;
    }
    if (sameId !== undefined) {
      skipped.push({ task, reason: `the id ${task.id} is already tasks[${sameId.index}]` });
      continue;
    }
    list.add(doc.createNode(taskValue(task)));
    existing.push({
      index: existing.length,
      id: task.id,
      issue: undefined,
      pr: undefined,
      [task.key]: task.number,
    });
    added.push(task);
  }
  return { text: insertAfterList(text, list, added) ?? doc.toString(), added, skipped };
}

function taskValue(task: ImportedTask): Record<string, unknown> {
  const value: Record<string, unknown> = { id: task.id, [task.key]: task.number };
  if (task.prompt !== undefined) value.prompt = task.prompt;
  return value;
}

/**
 * The file with the new tasks written right after the last item of its block `tasks:` list, in
 * that list's indentation: every other byte stays as it was (yaml's own printer would respace
 * comments). Undefined when the list is not a block list with items (then yaml prints it).
 */
function insertAfterList(
  text: string,
  list: { items: unknown[]; range?: [number, number, number] | null | undefined },
  added: readonly ImportedTask[],
): string | undefined {
  if (added.length === 0) return text;
  const first = list.items[0] as { range?: [number, number, number] } | undefined;
  const end = list.range?.[1];
  if (first?.range === undefined || end === undefined) return undefined;
  const lineStart = text.lastIndexOf("\n", first.range[0] - 1) + 1;
  const dash = text.slice(lineStart, first.range[0]);
  const indent = /^( *)- +$/.exec(dash)?.[1];
  if (indent === undefined) return undefined;
  const block = stringify(added.map(taskValue), { lineWidth: 0 })
    .trimEnd()
    .split("\n")
    .map((line) => indent + line)
    .join("\n");
  // After the list's last line (its end may sit before a trailing comment on that line).
  const lineEnd = text.indexOf("\n", Math.max(end - 1, 0));
  const at = lineEnd === -1 ? text.length : lineEnd + 1;
  const before = text.slice(0, at);
  const separator = before.endsWith("\n") || before === "" ? "" : "\n";
  return `${before}${separator}${block}\n${text.slice(at)}`;
}
