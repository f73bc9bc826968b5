// The consumer key's access rules: exactly the configured zones, GET/POST/PUT, never DELETE; and
// the comparison `check` makes between a key's rules and the Worker's calls.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  accessRulesFor,
  broaderRules,
  missingCalls,
  ruleMatches,
  workerCalls,
} from "../../scripts/cli/rules";
import { accessRuleMatches } from "../../sim/ovh-simulator";

describe("accessRulesFor", () => {
  it("grants GET, POST and PUT on each zone and below it, and nothing else", () => {
    expect(accessRulesFor(["example.tld", "example.org", "example.tld"])).toEqual([
      { method: "GET", path: "/domain/zone/example.org" },
      { method: "GET", path: "/domain/zone/example.org/*" },
      { method: "POST", path: "/domain/zone/example.org" },
      { method: "POST", path: "/domain/zone/example.org/*" },
      { method: "PUT", path: "/domain/zone/example.org" },
      { method: "PUT", path: "/domain/zone/example.org/*" },
      { method: "GET", path: "/domain/zone/example.tld" },
      { method: "GET", path: "/domain/zone/example.tld/*" },
      { method: "POST", path: "/domain/zone/example.tld" },
      { method: "POST", path: "/domain/zone/example.tld/*" },
      { method: "PUT", path: "/domain/zone/example.tld" },
      { method: "PUT", path: "/domain/zone/example.tld/*" },
    ]);
  });

  it("covers every call the Worker makes in its zones", () => {
    const rules = accessRulesFor(["example.tld"]);
    expect(missingCalls(rules, ["example.tld"])).toEqual([]);
    expect(broaderRules(rules, ["example.tld"])).toEqual([]);
  });

  it("does not reach a zone whose name merely starts with a configured one", () => {
    const rules = accessRulesFor(["example.tld"]);
    expect(rules.some((r) => ruleMatches(r, "GET", "/domain/zone/example.tld.evil/record"))).toBe(false);
    expect(rules.some((r) => ruleMatches(r, "DELETE", "/domain/zone/example.tld/record/1"))).toBe(false);
    expect(rules.some((r) => ruleMatches(r, "GET", "/me"))).toBe(false);
  });
});

describe("ruleMatches", () => {
  const cases: [string, string, string, boolean][] = [
    ["/domain/zone/x/*", "GET", "/domain/zone/x/record/1", true],
    ["/domain/zone/x/*", "GET", "/domain/zone/x", false],
    ["/domain/zone/x", "GET", "/domain/zone/x", true],
    ["/*", "GET", "/domain/zone/x/record", true],
    ["/domain/zone/*/record", "GET", "/domain/zone/x/record", true],
    ["/domain/zone/x.tld/*", "GET", "/domain/zone/xxtld/record", false],
  ];
  it.each(cases)(
    "%s matches GET %s → %s (as OVH, and the simulator, match)",
    (path, method, target, want) => {
      expect(ruleMatches({ method: "GET", path }, method, target)).toBe(want);
      expect(accessRuleMatches({ method: "GET", path }, method, target)).toBe(want);
    },
  );

  it("needs the same method", () => {
    expect(ruleMatches({ method: "GET", path: "/*" }, "PUT", "/x")).toBe(false);
    expect(accessRuleMatches({ method: "GET", path: "/*" }, "PUT", "/x")).toBe(false);
  });

  it("the CLI's matcher and the simulator's (written apart) agree on any rule and path", () => {
    // Few letters, so stars, overlaps and repeats meet often.
    const text = fc.string({ unit: fc.constantFrom("a", "b", "/", ".", "*"), maxLength: 8 });
    fc.assert(
      fc.property(text, text, (rule, raw) => {
        const path = raw.replaceAll("*", "a");
        const r = { method: "GET", path: rule };
        expect(accessRuleMatches(r, "GET", path)).toBe(ruleMatches(r, "GET", path));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("missingCalls and broaderRules", () => {
  it("names what a read-only key cannot do", () => {
    const readOnly = [{ method: "GET", path: "/domain/zone/example.tld/*" }];
    expect(missingCalls(readOnly, ["example.tld"]).map((m) => m.what)).toEqual([
      "create a record",
      "update a record",
      "refresh the zone",
    ]);
  });

  it("flags full access, DELETE and other zones as broader than needed", () => {
    const rules = [
      { method: "GET", path: "/*" },
      { method: "DELETE", path: "/domain/zone/example.tld/*" },
      { method: "PUT", path: "/domain/zone/other.tld/*" },
      { method: "POST", path: "/domain/zone/example.tld/*" },
    ];
    expect(broaderRules(rules, ["example.tld"])).toEqual(rules.slice(0, 3));
  });

  it("lists the Worker's five calls per zone", () => {
    expect(workerCalls("z.tld").map((c) => `${c.method} ${c.path}`)).toEqual([
      "GET /domain/zone/z.tld/record",
      "GET /domain/zone/z.tld/record/1",
      "POST /domain/zone/z.tld/record",
      "PUT /domain/zone/z.tld/record/1",
      "POST /domain/zone/z.tld/refresh",
    ]);
  });
});
