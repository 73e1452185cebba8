import type { z } from "zod";
import type { KeyPath } from "./locate.js";
import { didYouMeanSuffix } from "./suggest.js";

/** A schema problem before it is given a file position. */
export interface PathIssue {
  keyPath: KeyPath;
  /** Point at the key itself (unknown keys) rather than its value. */
  at: "key" | "value";
  message: string;
}

type Issue = z.core.$ZodIssue;

/**
 * Turns zod's issues into messages that say what is wrong and how to fix it. Unknown keys get one
 * issue each with a did-you-mean suggestion taken from the schema at that place; unions report the
 * branch that matches the kind of value written (a string or a map) instead of every alternative.
 */
export function explainZodIssues(
  issues: readonly Issue[],
  schema: z.ZodType,
  input: unknown,
): PathIssue[] {
  const explained: PathIssue[] = [];
  for (const issue of issues) explainOne(issue, [], schema, input, explained);
  return explained;
}

function explainOne(
  issue: Issue,
  prefix: KeyPath,
  schema: z.ZodType,
  input: unknown,
  out: PathIssue[],
): void {
  const keyPath = [...prefix, ...(issue.path as (string | number)[])];
  switch (issue.code) {
    case "unrecognized_keys": {
      const known = knownKeysAt(schema, keyPath);
      for (const key of issue.keys) {
        out.push({
          keyPath: [...keyPath, key],
          at: "key",
          message:
            `unknown key "${key}".${didYouMeanSuffix(key, known)}` +
            (known.length > 0 ? ` Allowed here: ${known.join(", ")}.` : ""),
        });
      }
      return;
    }
    case "invalid_union": {
      const value = valueAt(input, keyPath);
      const branches = issue.errors.filter((branch) => !isRootTypeMismatch(branch));
      if (branches.length === 1) {
        for (const inner of branches[0] ?? []) explainOne(inner, keyPath, schema, input, out);
        return;
      }
      const expected = issue.errors.flatMap((branch) =>
        isRootTypeMismatch(branch) && branch[0]?.code === "invalid_type"
          ? [branch[0].expected]
          : [],
      );
      out.push({
        keyPath,
        at: "value",
        message:
          branches.length === 0 && expected.length > 0
            ? `must be ${oneOf(expected.map(article))}, not ${describe(value)}`
            : `has the wrong type (${describe(value)})`,
      });
      return;
    }
    case "invalid_key": {
      // A record key that fails its pattern (env names, matrix keys): explain with the key's own rule.
      const key = keyPath[keyPath.length - 1];
      const reasons = issue.issues.map((inner) => lowerFirst(inner.message)).join("; ");
      out.push({ keyPath, at: "key", message: `"${String(key)}" is not allowed here: ${reasons}` });
      return;
    }
    case "invalid_type": {
      const value = valueAt(input, keyPath);
      if (value === undefined) {
        out.push({ keyPath, at: "value", message: `is required (expected ${issue.expected})` });
      } else {
        // A duration words its own type error (a bare number lacks a unit); other schemas' own
        // words are for their format, and the type's name says more there.
        const custom = issue.message.startsWith("must be a duration");
        out.push({
          keyPath,
          at: "value",
          message: custom
            ? lowerFirst(issue.message)
            : `must be ${article(issue.expected)}, not ${describe(value)}`,
        });
      }
      return;
    }
    case "invalid_value": {
      const value = valueAt(input, keyPath);
      const allowed = issue.values.map(String);
      const message = lowerFirst(issue.message).replace(/\.$/, "");
      if (value === undefined) {
        out.push({ keyPath, at: "value", message: `is missing; it ${message}` });
        return;
      }
      // No suggestion when the text is right but the type is not (version: "1"): it would repeat it.
      const suggestion =
        typeof value === "string" && !allowed.includes(value)
          ? didYouMeanSuffix(value, allowed)
          : "";
      out.push({
        keyPath,
        at: "value",
        message: `${message}, not ${describe(value)}.${suggestion}`,
      });
      return;
    }
    case "too_small":
      out.push({ keyPath, at: "value", message: customOr(issue, tooSmall(issue)) });
      return;
    default:
      out.push({ keyPath, at: "value", message: lowerFirst(issue.message) });
  }
}

function customOr(issue: Issue, fallback: string): string {
  return issue.message.startsWith("Too small") ? fallback : issue.message;
}

function tooSmall(issue: Extract<Issue, { code: "too_small" }>): string {
  if (issue.origin === "array") return `must list at least ${issue.minimum} item(s)`;
  if (issue.origin === "string") return "must not be empty";
  return `must be at least ${issue.minimum}`;
}

/** A union branch that failed only because the value is of another kind entirely. */
function isRootTypeMismatch(branch: readonly Issue[]): boolean {
  return branch.length === 1 && branch[0]?.code === "invalid_type" && branch[0].path.length === 0;
}

function valueAt(input: unknown, keyPath: KeyPath): unknown {
  let value = input;
  for (const segment of keyPath) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}

function describe(value: unknown): string {
  if (value === null) return "null (an empty value)";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  if (typeof value === "string") return `the string ${JSON.stringify(truncate(value))}`;
  return `${typeof value} ${String(value)}`;
}

function article(expected: string): string {
  if (expected === "object" || expected === "record") return "a map of keys to values";
  if (expected === "array") return "a list";
  if (expected === "int") return "a whole number";
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function oneOf(items: readonly string[]): string {
  return items.length <= 1
    ? (items[0] ?? "")
    : `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** The keys an object schema accepts at `keyPath`, found by walking the schema. */
export function knownKeysAt(schema: z.ZodType, keyPath: KeyPath): string[] {
  let current: z.ZodType | undefined = schema;
  for (const segment of keyPath) {
    current = current === undefined ? undefined : childSchema(unwrap(current), segment);
  }
  const object = current === undefined ? undefined : unwrap(current);
  if (object === undefined) return [];
  const objectLike = findObject(object);
  return objectLike ? Object.keys(objectLike.shape) : [];
}

type AnyDef = {
  type: string;
  innerType?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  shape?: Record<string, z.ZodType>;
};

function def(schema: z.ZodType): AnyDef {
  return (schema as unknown as { _zod: { def: AnyDef } })._zod.def;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    const d = def(current);
    if ((d.type === "optional" || d.type === "nullable" || d.type === "default") && d.innerType) {
      current = d.innerType;
    } else {
      return current;
    }
  }
}

function findObject(schema: z.ZodType): { shape: Record<string, z.ZodType> } | undefined {
  const d = def(schema);
  if (d.type === "object" && d.shape) return { shape: d.shape };
  if (d.type === "union" && d.options) {
    for (const option of d.options) {
      const found = findObject(unwrap(option));
      if (found) return found;
    }
  }
  return undefined;
}

function childSchema(schema: z.ZodType, segment: string | number): z.ZodType | undefined {
  const d = def(schema);
  if (d.type === "array" && typeof segment === "number") return d.element;
  if (d.type === "record") return d.valueType;
  const object = findObject(schema);
  if (object && typeof segment === "string" && Object.hasOwn(object.shape, segment)) {
    return object.shape[segment];
  }
  return undefined;
}
