import * as z from "zod";
import { writtenConfigSchema } from "./written.js";

/** Where the published JSON Schema lives, for the `# yaml-language-server: $schema=` line. */
export const SCHEMA_FILE = "schema/conductor.schema.json";

/** The JSON Schema of `conductor.yaml`, generated from the zod schema, as stable pretty JSON. */
export function configJsonSchemaText(): string {
  const schema = z.toJSONSchema(writtenConfigSchema, { target: "draft-2020-12" });
  return `${JSON.stringify({ ...schema, title: "conductor.yaml" }, null, 2)}\n`;
}
