// The rule `migrate up` enforces without a linter: no plain `create index` on a table the file did not create.
import { describe, expect, test } from "bun:test";
import { UnsafeMigration } from "../../src/migrator/errors";
import { lintableUp, optOuts, parseMigration } from "../../src/migrator/files";
import { refuseUnsafe, unsafeStatements } from "../../src/migrator/safety";

const file = (up: string, preamble = "", transaction = true) =>
  parseMigration("0002_step.sql", `${preamble}${transaction ? "" : "-- migrate:no-transaction\n"}-- migrate:up\n${up}\n-- migrate:down\nselect 1;\n`);

describe("unsafeStatements", () => {
  test("flags a plain create index on a table the file did not create, in any spelling", () => {
    for (const up of [
      "create index tasks_title_idx on tasks (title);",
      "CREATE UNIQUE INDEX IF NOT EXISTS x ON ONLY tasks USING btree (title);",
      "create index on tasks (title);",
      'create index "odd" on "Tasks" (title);',
      "alter table tasks add column e int;\ncreate index tasks_e_idx on tasks (e);",
    ])
      expect(unsafeStatements(file(up)).length).toBe(1);
    expect(unsafeStatements(file('create index i on "Tasks" (x);'))[0]!.table).toBe("Tasks");
  });

  test("lets through concurrent builds, indexes on tables created in the same file, and other statements", () => {
    expect(unsafeStatements(file("create index concurrently if not exists i on tasks (title);", "", false))).toEqual([]);
    expect(unsafeStatements(file("create table notes (id int);\ncreate index notes_id_idx on notes (id);"))).toEqual([]);
    expect(unsafeStatements(file('create unlogged table if not exists "Notes" (id int);\ncreate index on "Notes" (id);'))).toEqual([]);
    expect(unsafeStatements(file("alter table tasks add column e int;\n-- create index i on tasks (e);"))).toEqual([]);
  });

  test("an opt-out must name the rule and say why, above the statement or for the file", () => {
    const because = "-- squawk-ignore require-concurrent-index-creation -- tasks holds at most a few rows per tenant\n";
    expect(unsafeStatements(file(`${because}create index i on tasks (title);`))).toEqual([]);
    expect(unsafeStatements(file(`${because}create index i on tasks (title);\ncreate index j on tasks (completed);`)).map((u) => u.statement)).toEqual([
      "create index j on tasks (completed)",
    ]);
    expect(unsafeStatements(file("create index i on tasks (title);", "-- squawk-ignore-file require-concurrent-index-creation -- backfill table, no API traffic\n"))).toEqual([]);
    // No reason, or another rule: still refused.
    expect(unsafeStatements(file("-- squawk-ignore require-concurrent-index-creation\ncreate index i on tasks (title);"))).toHaveLength(1);
    expect(unsafeStatements(file("-- squawk-ignore ban-drop-column -- why\ncreate index i on tasks (title);"))).toHaveLength(1);
  });

  test("refuseUnsafe names the file, the statement, the table and the way out", () => {
    const error = (() => {
      try {
        refuseUnsafe([file("create index tasks_title_idx on tasks (title);")], "acme");
      } catch (e) {
        return e as UnsafeMigration;
      }
    })();
    expect(error).toBeInstanceOf(UnsafeMigration);
    expect(error!.message).toContain('0002_step.sql: "create index tasks_title_idx on tasks (title)" blocks writes to tasks');
    expect(error!.message).toContain("-- squawk-ignore require-concurrent-index-creation -- <why>");
    expect(error!.where).toEqual({ file: "0002_step.sql", schema: "acme" });
  });
});

describe("for the linter", () => {
  test("lintableUp keeps the preamble and up lines in place and blanks the rest", () => {
    const text = "-- why\n-- migrate:no-transaction\n-- migrate:up\ncreate index concurrently i on t (x);\n-- migrate:down\ndrop index i;\n";
    const { text: kept, transaction } = lintableUp("0003_x.sql", text);
    expect(transaction).toBe(false);
    expect(kept.split("\n")).toEqual(["-- why", "-- squawk-disable-assume-in-transaction", "", "create index concurrently i on t (x);", "", "", ""]);
  });

  test("optOuts reads rules and the reason after ' -- '", () => {
    expect(optOuts("x\n-- squawk-ignore a-rule, b-rule -- because -- really\n  --squawk-ignore-file c-rule\n")).toEqual([
      { file: false, rules: ["a-rule", "b-rule"], reason: "because -- really" },
      { file: true, rules: ["c-rule"], reason: "" },
    ]);
  });
});
