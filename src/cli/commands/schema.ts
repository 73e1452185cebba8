import { Command } from "commander";
import { configJsonSchemaText } from "../../schema/json-schema.js";

/** `conductor schema`: prints the JSON Schema of conductor.yaml for editors. */
export function schemaCommand(): Command {
  return new Command("schema")
    .description("print the JSON Schema of conductor.yaml (for editor completion)")
    .addHelpText(
      "after",
      "\nEditors using yaml-language-server pick it up from a first line such as:\n" +
        "  # yaml-language-server: $schema=./node_modules/codex-conductor/schema/conductor.schema.json",
    )
    .action(() => {
      process.stdout.write(configJsonSchemaText());
    });
}
