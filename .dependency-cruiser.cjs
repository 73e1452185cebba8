/**
 * The data flow of DESIGN.md, enforced: cli → schema → planner → executor → events → report, with
 * process hygiene, redaction and token usage as leaves everybody may use. `npm run lint:deps`.
 */
const LEAVES = "^src/(process|secrets|usage|hint|timers)/";
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "Import circles make load order matter and hide which module owns what.",
      from: {},
      to: { circular: true },
    },
    {
      name: "planner-is-pure",
      severity: "error",
      comment:
        "The planner is pure data in, data out: no executor, git, agents, processes or reporters.",
      from: { path: "^src/planner/" },
      to: {
        path: "^src/(executor|git|agents|process|secrets|review|report|cli|demo|model-server)/",
      },
    },
    {
      name: "planner-does-no-io",
      severity: "error",
      comment: "No file system, processes, network or clock-dependent modules in the planner.",
      from: { path: "^src/planner/" },
      to: { dependencyTypes: ["core"], pathNot: "^(node:)?(crypto|path|util)$" },
    },
    {
      name: "leaves-stay-leaves",
      severity: "error",
      comment:
        "Process hygiene, redaction, token usage, file helpers, hints, timers and the config schema are used by everybody and use nobody.",
      from: { path: [LEAVES, "^src/schema/"] },
      to: {
        path: "^src/(planner|executor|agents|git|review|report|cli|demo|merge|doctor|preflight|init)/",
      },
    },
    {
      name: "agents-never-touch-git",
      severity: "error",
      comment:
        "Agents run programs; the executor owns git metadata and commits after the agent stops.",
      from: { path: "^src/agents/" },
      to: { path: "^src/(executor|git|review|report|cli|planner)/" },
    },
    {
      name: "executor-does-not-report",
      severity: "error",
      comment:
        "The executor emits typed events; reporters subscribe. It never calls them or the CLI.",
      from: { path: "^src/executor/" },
      to: { path: "^src/(report|review|cli)/" },
    },
    {
      name: "reporters-read-only",
      severity: "error",
      comment: "Reporters read events and state; they never run agents, git or processes.",
      from: { path: "^src/report/" },
      to: { path: "^src/(cli|review|git|process)/|^src/agents/(?!types)" },
    },
    {
      name: "run-path-stays-below-commands",
      severity: "error",
      comment:
        "Planner, executor and reporters serve every command; the modules of single commands (merge, doctor, preflight, init) sit above them, never below.",
      from: { path: "^src/(planner|executor|report|git|agents)/" },
      to: { path: "^src/(merge|doctor|preflight|init|review|ui|spotlight)/" },
    },
    {
      name: "only-cli-imports-cli",
      severity: "error",
      comment: "The CLI is wiring; nothing below it depends on it.",
      from: { pathNot: "^src/cli/" },
      to: { path: "^src/cli/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
  },
};
