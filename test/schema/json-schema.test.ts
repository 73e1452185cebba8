// The published JSON Schema (schema/conductor.schema.json) is generated from the zod schema; editors
// use it through the `# yaml-language-server: $schema=` line, so it must be current and correct.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { configJsonSchemaText, SCHEMA_FILE } from "../../src/schema/json-schema.js";
import { conductor } from "../helpers/cli.js";
import { createTestRepo, type TestRepo } from "../helpers/git-repo.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const CORPUS_DIR = path.join(ROOT, "test", "fixtures", "bad-configs");

type JsonSchema = Record<string, unknown>;

const KEYWORDS = new Set([
  "$schema",
  "title",
  "description",
  "type",
  "const",
  "enum",
  "properties",
  "required",
  "additionalProperties",
  "propertyNames",
  "items",
  "minItems",
  "maxItems",
  "anyOf",
  "pattern",
  "minLength",
  "maxLength",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
]);

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case "null":
      return value === null;
    case "integer":
      return Number.isInteger(value);
    case "number":
      return typeof value === "number";
    case "object":
      return isMap(value);
    case "array":
      return Array.isArray(value);
    default:
      return typeof value === type;
  }
}

/**
 * A minimal JSON Schema (2020-12) validator for the keywords conductor's schema uses. An unknown
 * keyword fails loudly, so the schema cannot grow a rule this check silently ignores.
 */
function schemaErrors(schema: JsonSchema, value: unknown, at = "$"): string[] {
  const unknown = Object.keys(schema).filter((keyword) => !KEYWORDS.has(keyword));
  if (unknown.length > 0) throw new Error(`validator does not know ${unknown.join(", ")} (${at})`);
  const errors: string[] = [];
  if (schema.type !== undefined) {
    const types = [schema.type].flat() as string[];
    if (!types.some((type) => hasType(value, type))) return [`${at}: not ${types.join(" or ")}`];
  }
  if ("const" in schema && value !== schema.const) errors.push(`${at}: not ${schema.const}`);
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) errors.push(`${at}: not in enum`);
  if (Array.isArray(schema.anyOf)) {
    const options = schema.anyOf as JsonSchema[];
    if (!options.some((option) => schemaErrors(option, value, at).length === 0)) {
      errors.push(`${at}: matches no anyOf option`);
    }
  }
  if (typeof value === "string") {
    const length = [...value].length;
    if (typeof schema.minLength === "number" && length < schema.minLength)
      errors.push(`${at}: too short`);
    if (typeof schema.maxLength === "number" && length > schema.maxLength)
      errors.push(`${at}: too long`);
    if (typeof schema.pattern === "string" && !new RegExp(schema.pattern, "u").test(value))
      errors.push(`${at}: does not match ${schema.pattern}`);
  }
  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum) errors.push(`${at}: < min`);
    if (typeof schema.maximum === "number" && value > schema.maximum) errors.push(`${at}: > max`);
    if (typeof schema.exclusiveMinimum === "number" && value <= schema.exclusiveMinimum)
      errors.push(`${at}: <= exclusive min`);
    if (typeof schema.exclusiveMaximum === "number" && value >= schema.exclusiveMaximum)
      errors.push(`${at}: >= exclusive max`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === "number" && value.length < schema.minItems)
      errors.push(`${at}: too few items`);
    if (typeof schema.maxItems === "number" && value.length > schema.maxItems)
      errors.push(`${at}: too many items`);
    if (isMap(schema.items)) {
      const items = schema.items;
      value.forEach((item, index) => {
        errors.push(...schemaErrors(items, item, `${at}[${index}]`));
      });
    }
  }
  if (isMap(value)) {
    const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
    for (const key of (schema.required ?? []) as string[]) {
      if (!(key in value)) errors.push(`${at}.${key}: required`);
    }
    for (const [key, inner] of Object.entries(value)) {
      if (isMap(schema.propertyNames)) errors.push(...schemaErrors(schema.propertyNames, key, at));
      const property = properties[key];
      if (property) errors.push(...schemaErrors(property, inner, `${at}.${key}`));
      else if (schema.additionalProperties === false) errors.push(`${at}.${key}: not allowed`);
      else if (isMap(schema.additionalProperties))
        errors.push(...schemaErrors(schema.additionalProperties, inner, `${at}.${key}`));
    }
  }
  return errors;
}

let committed: string;
let schema: JsonSchema;

beforeAll(async () => {
  committed = await readFile(path.join(ROOT, SCHEMA_FILE), "utf8");
  schema = JSON.parse(committed) as JsonSchema;
});

describe("schema/conductor.schema.json", () => {
  it("is the JSON Schema generated from the zod schema", () => {
    expect(
      committed,
      `${SCHEMA_FILE} is out of date; regenerate it with ` +
        "`npm run build && node dist/bin/conductor.js schema > schema/conductor.schema.json`",
    ).toBe(configJsonSchemaText());
  });

  it("is a draft 2020-12 schema titled conductor.yaml", () => {
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(schema.title).toBe("conductor.yaml");
  });

  it("accepts conductor.yaml.example", async () => {
    const example = parse(await readFile(path.join(ROOT, "conductor.yaml.example"), "utf8"));
    expect(schemaErrors(schema, example)).toEqual([]);
  });

  it("is named by the example's yaml-language-server line", async () => {
    const example = await readFile(path.join(ROOT, "conductor.yaml.example"), "utf8");
    expect(example.split("\n")[0]).toBe(`# yaml-language-server: $schema=./${SCHEMA_FILE}`);
  });

  // The same mistakes `conductor validate` refuses by schema (not by cross-field rules) must show
  // up in editors too.
  it.each([
    "unknown-key-top-level.yaml",
    "unknown-key-nested.yaml",
    "unknown-key-in-task.yaml",
    "unknown-key-in-task-agent.yaml",
    "wrong-type-string-for-number.yaml",
    "wrong-type-list-for-map.yaml",
    "wrong-type-task-not-map.yaml",
    "wrong-type-boolean.yaml",
    "version-missing.yaml",
    "version-2.yaml",
    "tasks-empty.yaml",
    "task-id-invalid.yaml",
    "enum-typo.yaml",
    "duration-bad.yaml",
    "env-name-reserved.yaml",
    "matrix-empty-list.yaml",
    "attempts-zero.yaml",
  ])("rejects %s like validate does", async (fixture) => {
    const config = parse(await readFile(path.join(CORPUS_DIR, fixture), "utf8"));
    expect(schemaErrors(schema, config)).not.toEqual([]);
  });
});

describe("conductor schema", () => {
  let repo: TestRepo;

  beforeAll(async () => {
    repo = await createTestRepo();
  });

  afterAll(async () => {
    await repo.remove();
  });

  it("prints the committed JSON Schema", async () => {
    const result = await conductor(["schema"], { cwd: repo.root, home: repo.home });
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    // The helper strips the final newline of stdout, as a shell's $(...) does.
    expect(`${result.stdout}\n`).toBe(committed);
  });
});
