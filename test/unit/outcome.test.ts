// Replies (src/dyndns/reply.ts): status, body and headers of each, and no error text that inadyn's
// substring test would read as success — checked over every reason the parser and the planner
// produce for the hostile corpus.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseVars } from "../../src/config";
import { planHost } from "../../src/core/plan";
import { collectParams } from "../../src/dyndns/params";
import {
  type HostOutcome,
  hostLine,
  RETRY_AFTER_911,
  type Reply,
  renderReply,
  SUCCESS_WORDS,
  safeReason,
} from "../../src/dyndns/reply";
import { parseUpdate } from "../../src/dyndns/report";
import { CORPUS, corpusVars } from "../hostile/corpus";

const TEXT = { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" };

/** The success words found in a text, case-insensitively. */
const successWords = (text: string) => SUCCESS_WORDS.filter((w) => text.toLowerCase().includes(w));

describe("each reply", () => {
  const cases: [string, Reply, number, string, Record<string, string>][] = [
    [
      "good and nochg, one line per host in order",
      {
        kind: "hosts",
        hosts: [
          { code: "good", addresses: "198.51.100.1,2001:db8::1" },
          { code: "nochg", addresses: "198.51.100.1,2001:db8::1" },
          { code: "nohost" },
          { code: "notfqdn" },
        ],
      },
      200,
      "good 198.51.100.1,2001:db8::1\nnochg 198.51.100.1,2001:db8::1\nnohost\nnotfqdn\n",
      TEXT,
    ],
    [
      "dnserr and abuse per host",
      { kind: "hosts", hosts: [{ code: "dnserr" }, { code: "abuse" }] },
      200,
      "dnserr\nabuse\n",
      TEXT,
    ],
    [
      "every host refused by the change limit: 429 with the longest Retry-After",
      {
        kind: "hosts",
        hosts: [
          { code: "abuse", retryAfter: 3000 },
          { code: "abuse", retryAfter: 1200 },
        ],
      },
      429,
      "abuse\nabuse\n",
      { ...TEXT, "Retry-After": "3000" },
    ],
    [
      "a host that hit an OVH failure makes the reply retryable",
      { kind: "hosts", hosts: [{ code: "good", addresses: "198.51.100.1" }, { code: "911" }] },
      503,
      "good 198.51.100.1\n911\n",
      { ...TEXT, "Retry-After": String(RETRY_AFTER_911) },
    ],
    [
      "badauth with a Basic challenge",
      { kind: "badauth" },
      401,
      "badauth\n",
      { ...TEXT, "WWW-Authenticate": 'Basic realm="dyndns", charset="UTF-8"' },
    ],
    [
      "badrequest with its reason",
      { kind: "badrequest", reason: "myip: not an IPv4 address" },
      400,
      "badrequest: myip: not an IPv4 address\n",
      TEXT,
    ],
    ["numhost", { kind: "numhost" }, 200, "numhost\n", TEXT],
    ["notfqdn", { kind: "notfqdn" }, 200, "notfqdn\n", TEXT],
    ["abuse", { kind: "abuse", retryAfter: 42 }, 429, "abuse\n", { ...TEXT, "Retry-After": "42" }],
    ["911", { kind: "911", retryAfter: 300 }, 503, "911\n", { ...TEXT, "Retry-After": "300" }],
    [
      "method not allowed",
      { kind: "method", allow: "GET, POST" },
      405,
      "badrequest: method not allowed\n",
      { ...TEXT, Allow: "GET, POST" },
    ],
    [
      "unknown path",
      { kind: "notfound" },
      404,
      "badrequest: unknown path; updates go to /nic/update\n",
      TEXT,
    ],
  ];

  it.each(cases)("%s", (_name, reply, status, body, headers) => {
    expect(renderReply(reply)).toEqual({ status, body, headers });
  });

  it("every kind is covered above", () => {
    const kinds = new Set(cases.map(([, reply]) => reply.kind));
    expect([...kinds].sort()).toEqual(
      ["911", "abuse", "badauth", "badrequest", "hosts", "method", "notfound", "notfqdn", "numhost"].sort(),
    );
  });

  it.each([
    ["every host updated: the first host's line", ["good", "good"], 200, "good 192.0.2.1\n"],
    ["updated, then unchanged: the first host's line", ["good", "nochg"], 200, "good 192.0.2.1\n"],
    ["a host refused after one updated: the failure", ["good", "nohost"], 200, "nohost\n"],
    ["the first failure of two", ["nochg", "dnserr", "nohost"], 200, "dnserr\n"],
    ["an OVH failure: still retryable", ["good", "911"], 503, "911\n"],
    ["every host held back: 429", ["abuse", "abuse"], 429, "abuse\n"],
  ] as const)('the reply form "first", %s', (_name, codes, status, body) => {
    const hosts = codes.map((code): HostOutcome => {
      if (code === "good" || code === "nochg") return { code, addresses: "192.0.2.1" };
      return { code };
    });
    const reply: Reply = { kind: "hosts", hosts };
    const first = renderReply(reply, "first");
    expect([first.status, first.body]).toEqual([status, body]);
    // The same status and headers as the lines form, which keeps one line per host.
    const lines = renderReply(reply, "lines");
    expect({ ...first, body: lines.body }).toEqual(lines);
    expect(lines.body.split("\n")).toHaveLength(codes.length + 1);
  });

  it("hostLine for each host code", () => {
    const lines: [HostOutcome, string][] = [
      [{ code: "good", addresses: "2001:db8::/64" }, "good 2001:db8::/64"],
      [{ code: "nochg", addresses: "198.51.100.1" }, "nochg 198.51.100.1"],
      [{ code: "notfqdn" }, "notfqdn"],
      [{ code: "nohost" }, "nohost"],
      [{ code: "dnserr" }, "dnserr"],
      [{ code: "abuse" }, "abuse"],
      [{ code: "911" }, "911"],
    ];
    for (const [outcome, line] of lines) expect(hostLine(outcome)).toBe(line);
  });

  it("no reply other than good/nochg lines contains a success word", () => {
    for (const [, reply] of cases) {
      const { body } = renderReply(reply);
      const errorText = body
        .split("\n")
        .filter((l) => !/^(good|nochg) /.test(l))
        .join("\n");
      expect(successWords(errorText)).toEqual([]);
    }
  });
});

describe("safeReason", () => {
  it("keeps a reason one printable ASCII line", () => {
    expect(safeReason("a\r\nb\0c\u2028dé")).toBe("a??b?c?d?");
  });

  it("breaks every success word, in any case, so inadyn cannot read it as success", () => {
    const reason = "Good token, NOCHG, oK, True, UPDATED, success, booked.example.tld";
    const safe = safeReason(reason);
    expect(successWords(safe)).toEqual([]);
    expect(safe).toBe("G-ood to-ken, N-OCHG, o-K, T-rue, U-PDATED, s-uccess, boo-ked.example.tld");
  });

  it("a host name with a success word in a rendered reason is broken too", () => {
    const { body } = renderReply({
      kind: "badrequest",
      reason: "goodbook.example.tld: host_id has bits inside the /64 prefix",
    });
    expect(successWords(body)).toEqual([]);
  });
});

describe("every reason the parser and planner give for the hostile corpus", async () => {
  const vars = parseVars(await corpusVars());
  if (!vars.ok) throw new Error(vars.errors.join("\n"));
  const hosts = [...vars.value.hosts.values()];

  /** Reasons for one corpus row: parseUpdate, then planHost for every configured host. */
  function reasons(query: string, body: string | undefined, form: boolean, connectingIp: string): string[] {
    const sources = [new URLSearchParams(query)];
    if (form && body !== undefined) sources.push(new URLSearchParams(body));
    const parsed = parseUpdate(collectParams(...sources), connectingIp);
    if (!parsed.ok) return parsed.error === "badrequest" ? [parsed.reason] : [];
    return hosts.flatMap((h) => {
      const plan = planHost(h, parsed.value);
      return plan.ok ? [] : [plan.reason];
    });
  }

  const all = new Set<string>();
  for (const row of CORPUS) {
    const form = (row.headers["Content-Type"] ?? "").startsWith("application/x-www-form-urlencoded");
    const ip = row.headers["CF-Connecting-IP"] || "127.0.0.1";
    for (const r of reasons(row.query, row.body, form, ip)) all.add(r);
    // And with every host allowed private addresses off and on: other refusals, same words.
    for (const r of reasons(
      row.query.replace(/hostname=[^&]*/, "hostname=strict.example.tld"),
      row.body,
      form,
      ip,
    ))
      all.add(r);
  }

  it("covers many distinct reasons", () => {
    expect(all.size).toBeGreaterThanOrEqual(25);
  });

  it.each([...all].map((r) => [r]))("%s", (reason) => {
    // The raw reason is already clean: the safeReason guard never has to mangle one.
    expect(successWords(reason)).toEqual([]);
    expect(safeReason(reason)).toBe(reason);
    const { status, body } = renderReply({ kind: "badrequest", reason });
    expect(status).toBe(400);
    expect(body).toBe(`badrequest: ${reason}\n`);
  });
});

describe("every reason written in the source", () => {
  const src = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src");
  // Literals (and template text) passed to fail(), bad(), refusal text and reply reasons.
  const pattern = /(?:fail|bad|reason:|reason =|return)\s*\(?\s*(["'`])((?:(?!\1)[^\\]|\\.)*)\1/g;
  // The modules whose text can reach a reply body (config errors only reach the log: 911).
  const replying = [
    "core/address.ts",
    "core/plan.ts",
    "dyndns/params.ts",
    "dyndns/report.ts",
    "dyndns/reply.ts",
    "dyndns/update.ts",
    "access/access.ts",
    "index.ts",
  ];
  const literals = replying
    .flatMap((f) => [...readFileSync(join(src, f), "utf8").matchAll(pattern)].map((m) => `${f}: ${m[2]}`))
    .filter((l) => / [a-z]+ [a-z]+/.test(l));

  it("finds the reasons", () => {
    expect(literals.length).toBeGreaterThanOrEqual(15);
  });

  it.each(literals.map((l) => [l]))("%s", (literal) => {
    const text = literal.slice(literal.indexOf(": ") + 2).replace(/\$\{[^}]*\}/g, "");
    expect(successWords(text)).toEqual([]);
  });
});
