// Sharding for CI: `--shard i/n` parts partition the plan, keep dependency chains together and
// balance the number of workspaces per shard.
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { UsageError } from "../../src/errors.js";
import { buildPlan } from "../../src/planner/plan.js";
import { githubMatrix, parseShard } from "../../src/planner/shard.js";
import type { Plan } from "../../src/planner/types.js";
import type { Config } from "../../src/schema/config.js";
import { configFrom, FACTS, planOf } from "../helpers/planning.js";

describe("parseShard", () => {
  it.each([
    ["1/1", 1, 1],
    ["1/3", 1, 3],
    ["3/3", 3, 3],
    ["12/40", 12, 40],
  ])("reads %s", (text, index, count) => {
    expect(parseShard(text)).toEqual({ index, count });
  });

  it.each(["0/3", "3/2", "1/0", "a/b", "1", "1/3/4", "-1/3", "1.5/3", "", "/3", "2/"])(
    "refuses %j with a usage error saying how to write a shard",
    (text) => {
      expect(() => parseShard(text)).toThrowError(UsageError);
      expect(() => parseShard(text)).toThrowError("write i/n with 1 ≤ i ≤ n, e.g. --shard 2/4");
    },
  );

  it("accepts 256 shards, GitHub Actions' matrix limit, and refuses 257", () => {
    expect(parseShard("256/256")).toEqual({ index: 256, count: 256 });
    expect(() => parseShard("1/257")).toThrowError(UsageError);
    expect(() => parseShard("1/257")).toThrowError(
      "--shard 1/257 asks for 257 shards; conductor splits a run into at most 256",
    );
  });
});

describe("githubMatrix", () => {
  it("lists one include entry per shard", () => {
    expect(JSON.stringify(githubMatrix(3))).toBe(
      '{"include":[{"shard":"1/3"},{"shard":"2/3"},{"shard":"3/3"}]}',
    );
  });
});

const CHAINS = `version: 1
tasks:
  - id: schema
    prompt: x
  - id: api
    prompt: x
    depends_on: [schema]
  - id: docs
    prompt: x
    depends_on: [api]
  - id: lint
    prompt: x
    attempts: 2
  - id: typos
    prompt: x
  - id: deps
    prompt: x
`;

describe("shards", () => {
  it("keep a dependency chain in one shard and balance the rest around it", () => {
    const shard = (index: number) =>
      planOf(CHAINS, { shard: { index, count: 2 } }).workspaces.map((w) => w.name);
    // Heaviest first, each to the lightest shard: chain (3) → 1, lint (2) → 2, typos → 2, deps → 1.
    expect(shard(1)).toEqual(["schema", "deps", "api", "docs"]);
    expect(shard(2)).toEqual(["lint", "lint-2", "typos"]);
  });

  it("record the shard and the whole plan's size, and share the whole plan's hash", () => {
    const plan = planOf(CHAINS, { shard: { index: 2, count: 3 } });
    expect(plan.selection.shard).toEqual({ index: 2, count: 3 });
    expect(plan.selection.totalWorkspaces).toBe(7);
    expect(plan.hash).toBe(planOf(CHAINS).hash);
  });

  it("may leave a shard empty when there are more shards than chains", () => {
    const plan = planOf("version: 1\ntasks:\n  - id: a\n    prompt: x\n", {
      shard: { index: 2, count: 2 },
    });
    expect(plan.workspaces).toEqual([]);
    expect(plan.levels).toEqual([]);
  });

  it("split only the selected tasks when combined with patterns", () => {
    const names = [1, 2].flatMap((index) =>
      planOf(CHAINS, {
        taskPatterns: ["docs", "typos"],
        shard: { index, count: 2 },
      }).workspaces.map((w) => w.name),
    );
    expect(names.sort()).toEqual(["api", "docs", "schema", "typos"]);
  });
});

/** Mulberry32: a tiny seeded PRNG, so every run of this test sees the same "random" configs. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface RandomTask {
  id: string;
  prompt: string;
  attempts?: number;
  matrix?: Record<string, string[]>;
  depends_on?: string[];
}

/**
 * A random valid config: 1–16 tasks, some best-of-N and some with matrices, and random acyclic
 * depends_on (a task only depends on earlier-made single-workspace tasks; the list is shuffled).
 */
function randomConfigYaml(random: () => number): string {
  const below = (n: number) => Math.floor(random() * n);
  const tasks: RandomTask[] = [];
  const singles: string[] = [];
  const count = 1 + below(16);
  for (let i = 0; i < count; i++) {
    const task: RandomTask = { id: `t${i}`, prompt: `Do task ${i}.` };
    const shape = random();
    if (shape < 0.25) task.attempts = 2 + below(3);
    else if (shape < 0.45) {
      task.matrix = { model: ["m1", "m2", "m3"].slice(0, 1 + below(3)) };
      if (random() < 0.5) task.matrix.effort = ["low", "high"].slice(0, 1 + below(2));
      if (random() < 0.3) task.attempts = 2;
    }
    if (singles.length > 0 && random() < 0.6) {
      const wanted = 1 + below(Math.min(3, singles.length));
      const chosen = new Set<string>();
      while (chosen.size < wanted) chosen.add(singles[below(singles.length)] as string);
      task.depends_on = [...chosen];
    }
    const workspaces =
      (task.attempts ?? 1) *
      Object.values(task.matrix ?? {}).reduce((product, values) => product * values.length, 1);
    if (workspaces === 1) singles.push(task.id);
    tasks.push(task);
  }
  for (let i = tasks.length - 1; i > 0; i--) {
    const j = below(i + 1);
    [tasks[i], tasks[j]] = [tasks[j] as RandomTask, tasks[i] as RandomTask];
  }
  return stringify({ version: 1, tasks });
}

/** Connected components of the undirected depends_on graph, computed independently of the planner. */
function components(config: Config): Map<string, string> {
  const parent = new Map(config.tasks.map((task) => [task.id, task.id]));
  const find = (id: string): string => {
    const up = parent.get(id) as string;
    return up === id ? id : find(up);
  };
  for (const task of config.tasks) {
    for (const dependency of task.dependsOn) parent.set(find(task.id), find(dependency));
  }
  return new Map(config.tasks.map((task) => [task.id, find(task.id)]));
}

describe("shards of random configs", () => {
  const random = mulberry32(0xc0ffee);
  const configs = Array.from({ length: 300 }, () => randomConfigYaml(random));

  it("cover a wide range of shapes", () => {
    const plans = configs.map((yaml) => planOf(yaml));
    const sizes = plans.map((plan) => plan.workspaces.length);
    expect(Math.min(...sizes)).toBe(1);
    expect(Math.max(...sizes)).toBeGreaterThan(30);
    expect(plans.filter((plan) => plan.levels.length >= 3).length).toBeGreaterThan(30);
  });

  it("partition all workspaces exactly once, keep chains whole and balance sizes, for n = 1..6", () => {
    for (const [index, yaml] of configs.entries()) {
      const config = configFrom(yaml);
      const whole = buildPlan({ config, facts: FACTS, promptFiles: {} });
      const component = components(config);
      const weight = new Map<string, number>();
      for (const w of whole.workspaces) {
        const root = component.get(w.taskId) as string;
        weight.set(root, (weight.get(root) ?? 0) + 1);
      }
      const largest = Math.max(...weight.values());
      const context = `config #${index}:\n${yaml}`;

      for (let count = 1; count <= 6; count++) {
        const shards: Plan[] = [];
        for (let shard = 1; shard <= count; shard++) {
          shards.push(
            buildPlan({ config, facts: FACTS, promptFiles: {}, shard: { index: shard, count } }),
          );
        }
        const names = shards.flatMap((plan) => plan.workspaces.map((w) => w.name));
        expect(names.sort(), `${context}n=${count}: every workspace exactly once`).toEqual(
          whole.workspaces.map((w) => w.name).sort(),
        );

        const shardOfComponent = new Map<string, number>();
        shards.forEach((plan, shard) => {
          const inShard = new Set(plan.workspaces.map((w) => w.name));
          for (const w of plan.workspaces) {
            for (const dependency of w.dependsOn) {
              expect(
                inShard.has(dependency),
                `${context}n=${count}: ${w.name} without ${dependency}`,
              ).toBe(true);
            }
            const root = component.get(w.taskId) as string;
            const seen = shardOfComponent.get(root) ?? shard;
            expect(seen, `${context}n=${count}: component of ${w.taskId} split`).toBe(shard);
            shardOfComponent.set(root, shard);
          }
          expect(plan.hash).toBe(whole.hash);
        });

        const sizes = shards.map((plan) => plan.workspaces.length);
        expect(
          Math.max(...sizes) - Math.min(...sizes),
          `${context}n=${count}: sizes ${sizes.join(",")}, largest chain ${largest}`,
        ).toBeLessThanOrEqual(largest);
      }
    }
  });

  it("are deterministic: the same shard twice gives the same workspaces", () => {
    for (const yaml of configs.slice(0, 50)) {
      const first = planOf(yaml, { shard: { index: 2, count: 3 } });
      const second = planOf(yaml, { shard: { index: 2, count: 3 } });
      expect(JSON.stringify(second)).toBe(JSON.stringify(first));
    }
  });
});
