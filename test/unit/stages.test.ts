// How a run walks its tenants, without a database: stages, bounded concurrency, retries of blocked tenants, stopping.
import { describe, expect, test } from "bun:test";
import { backoffMs, planStages, walkStages, type Walk } from "../../src/migrator/stages";

const schemas = ["a", "b", "c", "d", "e", "f", "g"];

describe("planStages", () => {
  test("the canary (first n, or the named ones) on its own, then waves; by default everything at once", () => {
    expect(planStages(schemas, {})).toEqual([schemas]);
    expect(planStages(schemas, { canary: 2 })).toEqual([["a", "b"], ["c", "d", "e", "f", "g"]]);
    expect(planStages(schemas, { canary: ["f", "b", "zz"], wave: 2 })).toEqual([["b", "f"], ["a", "c"], ["d", "e"], ["g"]]);
    expect(planStages(schemas, { wave: 3 })).toEqual([["a", "b", "c"], ["d", "e", "f"], ["g"]]);
    expect(planStages([], { canary: 1, wave: 2 })).toEqual([]);
  });
});

function walk(overrides: Partial<Walk<string[]>> & { log: string[] }): Walk<string[]> {
  return {
    concurrency: 2,
    retries: 2,
    backoff: () => 0,
    attempt: async (schema) => (overrides.log.push(schema), { result: [schema], blocked: false }),
    merge: (a, b) => [...a, ...b],
    settle: async () => {},
    stopped: () => false,
    ...overrides,
  };
}

describe("walkStages", () => {
  test("finishes each stage before the next starts, never more than `concurrency` at once", async () => {
    const log: string[] = [];
    let running = 0;
    let most = 0;
    const settled: string[] = [];
    await walkStages([["a", "b", "c"], ["d", "e"]], walk({
      log,
      concurrency: 2,
      attempt: async (schema) => {
        most = Math.max(most, ++running);
        log.push(schema);
        await Bun.sleep(schema === "c" ? 20 : 1);
        running--;
        return { result: [schema], blocked: false };
      },
      settle: async (schema) => void settled.push(schema),
    }));
    expect(most).toBe(2);
    expect(settled.indexOf("c")).toBeLessThan(settled.indexOf("d"));
    expect(settled.sort()).toEqual(["a", "b", "c", "d", "e"]);
  });

  test("a blocked tenant is tried again up to `retries` more times, its results merged, then settled", async () => {
    const log: string[] = [];
    const settled: Record<string, [string[], number]> = {};
    await walkStages([["a", "b"]], walk({
      log,
      attempt: async (schema) => (log.push(schema), { result: [`${schema}${log.length}`], blocked: schema === "b" || log.length === 1 }),
      settle: async (schema, result, attempts) => void (settled[schema] = [result, attempts]),
    }));
    expect(settled.a![1]).toBe(2); // blocked once, then through
    expect(settled.b![1]).toBe(3); // blocked every time: 1 + 2 retries
    expect(log.filter((s) => s === "b")).toHaveLength(3);
    expect(settled.b![0]).toHaveLength(3);
  });

  test("once stopped, nothing new starts: in-flight tenants finish, the rest come back unstarted", async () => {
    const log: string[] = [];
    let stop = false;
    const settled: string[] = [];
    const unstarted = await walkStages([["a", "b", "c"], ["d"]], walk({
      log,
      concurrency: 1,
      stopped: () => stop,
      settle: async (schema) => {
        settled.push(schema);
        if (schema === "b") stop = true;
      },
    }));
    expect(settled).toEqual(["a", "b"]);
    expect(unstarted).toEqual(["c", "d"]);
  });

  test("a tenant waiting out its backoff when the run stops is settled with its last (blocked) result", async () => {
    const log: string[] = [];
    let stop = false;
    const settled: [string, number][] = [];
    await walkStages([["a"]], walk({
      log,
      backoff: () => 60_000,
      attempt: async (schema) => {
        setTimeout(() => (stop = true), 5);
        return { result: [schema], blocked: true };
      },
      stopped: () => stop,
      settle: async (schema, _, attempts) => void settled.push([schema, attempts]),
    }));
    expect(settled).toEqual([["a", 1]]);
  });

  test("backoff doubles from the lock timeout (at most 1 s), with jitter, capped at 30 s", () => {
    for (let i = 0; i < 20; i++) {
      expect(backoffMs(100, 1)).toBeWithin(50, 101);
      expect(backoffMs(100, 3)).toBeWithin(200, 401);
      expect(backoffMs(2000, 1)).toBeWithin(500, 1001);
      expect(backoffMs(2000, 10)).toBeWithin(15_000, 30_001);
    }
  });
});
