import { describe, expect, test } from "bun:test";
import { nestedDeeper, unstorable } from "../../src/http/inputs";

describe("nestedDeeper", () => {
  test("counts brackets outside strings only", () => {
    expect(nestedDeeper("[[[]]]", 3)).toBe(false);
    expect(nestedDeeper("[[[[]]]]", 3)).toBe(true);
    expect(nestedDeeper('{"a":{"b":[1]}}', 3)).toBe(false);
    expect(nestedDeeper('{"a":"[[[[[[[[","b":"\\"[[[["}', 1)).toBe(false);
    expect(nestedDeeper("[".repeat(1_000_000), 32)).toBe(true);
  });
});

describe("unstorable", () => {
  test("points at the first string with a NUL or a lone surrogate, keys included", () => {
    expect(unstorable({ a: "fine", b: ["ok", "x\u0000"] })).toBe("/b/1");
    expect(unstorable({ title: "half \udc00" })).toBe("/title");
    expect(unstorable({ "k\u0000": 1 })).toBe("/k\u0000");
    expect(unstorable("\u0000")).toBe("/");
    expect(unstorable({ emoji: "😀", n: 1, t: true, z: null })).toBeUndefined();
  });
});
