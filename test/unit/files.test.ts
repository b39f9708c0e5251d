import { describe, expect, test } from "bun:test";
import { MigrationError } from "../../src/migrator/errors";
import { chainChecksum, checkSequence, nextFile, parseMigration, pending, slug, splitStatements } from "../../src/migrator/files";

const file = (version: number, up = `create table t${version} (id int);`, extra = "") =>
  parseMigration(`${String(version).padStart(4, "0")}_step_${version}.sql`, `${extra}-- migrate:up\n${up}\n-- migrate:down\ndrop table t${version};\n`);

describe("parseMigration", () => {
  test("reads version, name, sections and the transaction marker", () => {
    const m = parseMigration("0007_add_tags.sql", "-- why\n-- migrate:up\nalter table x add y int;\n-- migrate:down\nalter table x drop y;\n");
    expect(m).toMatchObject({ version: 7, name: "add_tags", up: "alter table x add y int;", down: "alter table x drop y;", transaction: true });
    const nt = parseMigration("0002_idx.sql", "-- migrate:no-transaction\n-- migrate:up\ncreate index concurrently i on t (a);\n");
    expect(nt.transaction).toBe(false);
    expect(nt.down).toBeUndefined();
  });

  test("rejects bad names, a missing or empty up section, stray SQL and repeated sections", () => {
    const bad = [
      ["1_x.sql", "-- migrate:up\nselect 1;"],
      ["0001_Bad-Name.sql", "-- migrate:up\nselect 1;"],
      ["0001_x.sql", "select 1;"],
      ["0001_x.sql", "-- migrate:up\n-- only a comment\n-- migrate:down\nselect 1;"],
      ["0001_x.sql", "select 1;\n-- migrate:up\nselect 2;"],
      ["0001_x.sql", "-- migrate:up\nselect 1;\n-- migrate:up\nselect 2;"],
    ];
    for (const [name, text] of bad) expect(() => parseMigration(name!, text!)).toThrow(MigrationError);
  });

  test("the checksum follows the up section and its mode, not line endings or the down section", () => {
    const a = parseMigration("0001_x.sql", "-- migrate:up\nselect 1;\n-- migrate:down\nselect 2;\n");
    expect(parseMigration("0001_x.sql", "-- migrate:up\r\nselect 1;\r\n-- migrate:down\r\nselect 3;\r\n").checksum).toBe(a.checksum);
    expect(parseMigration("0001_x.sql", "-- migrate:up\nselect 2;\n").checksum).not.toBe(a.checksum);
    expect(parseMigration("0001_x.sql", "-- migrate:no-transaction\n-- migrate:up\nselect 1;\n").checksum).not.toBe(a.checksum);
    expect(a.checksum).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("checkSequence", () => {
  test("orders by version", () => {
    expect(checkSequence([file(3), file(1), file(2)]).map((m) => m.version)).toEqual([1, 2, 3]);
  });
  test("refuses gaps, duplicates and a chain not starting at 1", () => {
    expect(() => checkSequence([file(1), file(3)])).toThrow(/0002/);
    expect(() => checkSequence([file(1), file(2), file(2, "select 2;")])).toThrow(/share version 2/);
    expect(() => checkSequence([file(2)])).toThrow(/expected version 0001/);
  });
});

describe("pending", () => {
  const local = [file(1), file(2), file(3)];
  const applied = (n: number) => local.slice(0, n).map(({ version, name, checksum }) => ({ version, name, checksum }));

  test("is what comes after the applied prefix, up to --to", () => {
    expect(pending(local, [], "s").map((m) => m.version)).toEqual([1, 2, 3]);
    expect(pending(local, applied(1), "s").map((m) => m.version)).toEqual([2, 3]);
    expect(pending(local, applied(1), "s", 2).map((m) => m.version)).toEqual([2]);
    expect(pending(local, applied(3), "s")).toEqual([]);
    expect(pending(local, applied(2), "s", 1)).toEqual([]);
  });

  test("refuses a changed file, naming it and the schema", () => {
    const changed = [...applied(2)];
    changed[1] = { ...changed[1]!, checksum: "0".repeat(64) };
    expect(() => pending(local, changed, "acme")).toThrow("0002_step_2.sql changed after it was applied to acme");
  });

  test("refuses a file applied but missing locally", () => {
    expect(() => pending(local.slice(0, 1), applied(2), "acme")).toThrow("0002_step_2.sql is applied to acme but missing locally");
  });

  test("refuses a hole in the applied chain (append-only)", () => {
    expect(() => pending(local, [applied(3)[0]!, applied(3)[2]!], "acme")).toThrow(/0002_step_2.sql is not applied to acme but the later 0003/);
  });

  test("refuses a target beyond the head", () => {
    expect(() => pending(local, [], "s", 9)).toThrow(/no migration 9/);
  });
});

describe("chainChecksum", () => {
  test("is empty at revision 0 and changes with any file in the chain", () => {
    const local = [file(1), file(2)];
    expect(chainChecksum(local, 0)).toBe("");
    expect(chainChecksum(local, 1)).not.toBe(chainChecksum(local, 2));
    expect(chainChecksum([file(1), file(2, "select 42;")], 2)).not.toBe(chainChecksum(local, 2));
    expect(chainChecksum([file(1), file(2, "select 42;")], 1)).toBe(chainChecksum(local, 1));
  });
});

describe("new files", () => {
  test("slug makes a file-name-safe description", () => {
    expect(slug("Add tags to Tasks!")).toBe("add_tags_to_tasks");
    expect(slug("Crème brûlée")).toBe("creme_brulee");
    expect(() => slug("!!!")).toThrow(MigrationError);
  });
  test("nextFile numbers after the last file and parses as an (empty) migration template", () => {
    const next = nextFile([file(1), file(2)], "add priority", "tenant");
    expect(next.file).toBe("0003_add_priority.sql");
    expect(next.text).toContain("-- migrate:up");
    expect(next.text).toContain("never name a schema");
    expect(() => parseMigration(next.file, next.text)).toThrow(/missing or empty/);
  });
});

describe("splitStatements", () => {
  test("splits on semicolons outside quotes, dollar quotes and comments", () => {
    const script = `
      create index concurrently a on t (x);
      -- a comment; with a semicolon
      insert into t values ('a;b', 'it''s; fine', E'\\'; still');
      /* block; /* nested; */ comment */
      create function f() returns int language sql as $body$ select 1; $body$;
      select $$;$$;
      select "odd;name" from t`;
    expect(splitStatements(script)).toEqual([
      "create index concurrently a on t (x)",
      "-- a comment; with a semicolon\n      insert into t values ('a;b', 'it''s; fine', E'\\'; still')",
      "/* block; /* nested; */ comment */\n      create function f() returns int language sql as $body$ select 1; $body$",
      "select $$;$$",
      'select "odd;name" from t',
    ]);
  });
  test("drops empty statements and trailing comments", () => {
    expect(splitStatements("select 1;;\n-- done\n")).toEqual(["select 1"]);
  });
});
