/** Loading and validating `conductor.yaml`. */
export * from "./config.js";
export * from "./duration.js";
export * from "./json-schema.js";
export * from "./load.js";
export * from "./template.js";
export { AGENT_KINDS, COPY_MODES, SANDBOX_MODES, SCRIPT_NAMES } from "./written.js";
