// NOTIFY_URLS (src/notify/targets.ts): each shoutrrr-style URL becomes the exact request the
// service's API documents, and a wrong URL is one line that never repeats a token; the hourly
// dedupe (src/notify/dedupe.ts).
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { admit, NOTIFY_WINDOW_MS, release, TEST_WINDOW_MS, testWait } from "../../src/notify/dedupe";
import { deliver, PARALLEL_REQUESTS } from "../../src/notify/send";
import { parseTargets, type Target } from "../../src/notify/targets";
import type { HealthEvent } from "../../src/zone/protocol";

const AT = Date.parse("2026-12-01T10:00:00Z");
const EVENT: HealthEvent = {
  kind: "changed",
  host: "wg-end.example.tld",
  message: "wg-end.example.tld: AAAA wg-end.example.tld: 2001:db8::1 -> 2001:db8::2",
  at: AT,
};

/** The one request a URL makes for EVENT: method, URL, headers and body as sent. */
function requestOf(url: string, event = EVENT) {
  const { targets, errors } = parseTargets(url);
  expect(errors).toEqual([]);
  return targets[0]?.requests(event).map(({ url, init }) => ({
    url,
    method: init.method,
    headers: init.headers,
    body: typeof init.body === "string" && init.body.startsWith("{") ? JSON.parse(init.body) : init.body,
  }));
}

describe("each service's request", () => {
  it("ntfy: POST the text to the topic, title and tags as headers; user and password as Basic", () => {
    expect(requestOf("ntfy://alice:s3cret@ntfy.example.net/dyndns")).toEqual([
      {
        url: "https://ntfy.example.net/dyndns",
        method: "POST",
        headers: {
          "Content-Type": "text/plain; charset=utf-8",
          Title: "DynDNS changed: wg-end.example.tld",
          Tags: "changed",
          Authorization: `Basic ${btoa("alice:s3cret")}`,
        },
        body: EVENT.message,
      },
    ]);
  });

  it("ntfy: an access token as Bearer, the public server by its host, plain HTTP on request, a priority", () => {
    const [token] = requestOf("ntfy://:tk_abcdef@ntfy.sh/home-dns") ?? [];
    expect(token?.url).toBe("https://ntfy.sh/home-dns");
    expect(token?.headers).toMatchObject({ Authorization: "Bearer tk_abcdef" });
    const [plain] = requestOf("ntfy://ntfy.lan:8080/home?scheme=http&priority=high") ?? [];
    expect(plain?.url).toBe("http://ntfy.lan:8080/home");
    expect(plain?.headers).toMatchObject({ Priority: "high" });
    expect(plain?.headers).not.toHaveProperty("Authorization");
  });

  it("gotify: POST /message with title, message and priority; the token in X-Gotify-Key, not the URL", () => {
    expect(requestOf("gotify://gotify.example.net/sub/path/AzyoeNS.D4iJLVa")).toEqual([
      {
        url: "https://gotify.example.net/sub/path/message",
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Gotify-Key": "AzyoeNS.D4iJLVa" },
        body: { title: "DynDNS changed: wg-end.example.tld", message: EVENT.message, priority: 5 },
      },
    ]);
    expect(
      requestOf("gotify://gotify.lan:8080/AzyoeNS.D4iJLVa?disabletls=yes&priority=8")?.[0],
    ).toMatchObject({
      url: "http://gotify.lan:8080/message",
      body: { priority: 8 },
    });
  });

  it("discord: POST the content to the webhook", () => {
    expect(requestOf("discord://Tok-en_123@123456789012345678")).toEqual([
      {
        url: "https://discord.com/api/webhooks/123456789012345678/Tok-en_123",
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: { content: EVENT.message },
      },
    ]);
  });

  it("slack: both URL forms POST the text to the incoming webhook", () => {
    const expected = [
      {
        url: "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: { text: EVENT.message },
      },
    ];
    expect(requestOf("slack://hook:T00000000-B00000000-XXXXXXXXXXXXXXXXXXXXXXXX@webhook")).toEqual(expected);
    expect(requestOf("slack://T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX")).toEqual(expected);
  });

  it("telegram: one sendMessage per chat", () => {
    const requests = requestOf(
      "telegram://110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw@telegram?chats=@homelab,-100123",
    );
    expect(requests).toEqual(
      ["@homelab", "-100123"].map((chat) => ({
        url: "https://api.telegram.org/bot110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage",
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: { chat_id: chat, text: EVENT.message },
      })),
    );
  });

  it("generic: POST JSON with event, host, message and at; @-parameters are headers, others stay in the URL", () => {
    expect(requestOf("generic+https://hooks.example.net/dyndns?@Authorization=Bearer+abc&room=7")).toEqual([
      {
        url: "https://hooks.example.net/dyndns?room=7",
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: "Bearer abc" },
        body: {
          event: "changed",
          host: "wg-end.example.tld",
          message: EVENT.message,
          at: "2026-12-01T10:00:00.000Z",
        },
      },
    ]);
    const config: HealthEvent = { kind: "config", message: "the configuration is invalid", at: AT };
    expect(requestOf("generic+http://127.0.0.1:9000/hook", config)?.[0]).toMatchObject({
      url: "http://127.0.0.1:9000/hook",
      body: { event: "config", message: "the configuration is invalid" },
    });
  });
});

describe("NOTIFY_URLS", () => {
  it("takes URLs separated by spaces or line breaks, each labelled by position, service and host only", () => {
    const { targets, errors } = parseTargets(
      "ntfy://ntfy.sh/topic-one\n  discord://secret-token@1234\tgeneric+https://hooks.example.net/x?@X-Key=k3y",
    );
    expect(errors).toEqual([]);
    expect(targets.map((t) => t.label)).toEqual([
      "#1 ntfy ntfy.sh",
      "#2 discord",
      "#3 generic hooks.example.net",
    ]);
    expect(parseTargets(undefined)).toEqual({ targets: [], errors: [] });
  });

  it.each([
    ["pushover://shoutrrr:tokensecret@userkey", 'NOTIFY_URLS #1: "pushover://" is not a known service'],
    ["https://example.net/tokensecret", 'NOTIFY_URLS #1: "https://" is not a known service'],
    ["tokensecret", "NOTIFY_URLS #1: is not a URL of a known service"],
    ["discord://tokensecret@not-a-number", "NOTIFY_URLS #1 (discord): must be discord://TOKEN@WEBHOOK_ID"],
    ["ntfy://tokensecret@ntfy.sh/", "NOTIFY_URLS #1 (ntfy): must be ntfy://[user:password@]host/topic"],
    ["gotify://gotify.example.net/", "NOTIFY_URLS #1 (gotify): must be gotify://host[:port][/path]/token"],
    ["slack://xoxb:tokensecret@C012345", "NOTIFY_URLS #1 (slack): a bot token (xoxb) needs Slack's chat API"],
    ["slack://hook:tokensecret@webhook", "NOTIFY_URLS #1 (slack): must be slack://hook:A-B-C@webhook"],
    ["telegram://123:tokensecret@telegram", "NOTIFY_URLS #1 (telegram): names no chat"],
    ["telegram://tokensecret@telegram?chats=1", "NOTIFY_URLS #1 (telegram): must be telegram://BOT_TOKEN@"],
  ])("%s is refused without repeating the token", (url, start) => {
    const { targets, errors } = parseTargets(url);
    expect(targets).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.startsWith(start)).toBe(true);
    expect(errors[0]).not.toContain("tokensecret");
  });

  it("a wrong URL does not stop the others", () => {
    const { targets, errors } = parseTargets("bogus://x ntfy://ntfy.sh/ok");
    expect(targets.map((t) => t.label)).toEqual(["#2 ntfy ntfy.sh"]);
    expect(errors).toHaveLength(1);
  });
});

/** Decode a Basic header the way a server does: Base64, then the bytes as UTF-8. */
const basicOf = (header: unknown) =>
  Buffer.from(String(header).replace(/^Basic /, ""), "base64").toString("utf8");
/** One header of the one request a URL makes. */
const headerOf = (url: string, name: string) =>
  (requestOf(url)?.[0]?.headers as Record<string, string> | undefined)?.[name];
/** A header value as a server reads its bytes: UTF-8. */
const bytesAsUtf8 = (value: unknown) => Buffer.from(String(value), "latin1").toString("utf8");

describe("credentials with non-Latin-1 characters or percent signs, in every service", () => {
  const EURO = encodeURIComponent("pässwörd€"); // what a person pastes after URL-encoding it

  it("ntfy: a user and password in UTF-8 go as Basic, a token with % as %25 as Bearer", () => {
    expect(basicOf(headerOf(`ntfy://j%C3%BCrgen:${EURO}@ntfy.sh/dns`, "Authorization"))).toBe(
      "jürgen:pässwörd€",
    );
    // A € typed as is: the URL parser encodes it, and it arrives all the same.
    expect(basicOf(headerOf("ntfy://alice:pa€ss@ntfy.sh/dns", "Authorization"))).toBe("alice:pa€ss");
    const [bearer] = requestOf("ntfy://:tk_50%25off@ntfy.sh/dns") ?? [];
    expect(bearer?.headers).toMatchObject({ Authorization: "Bearer tk_50%off" });
  });

  it("gotify: a token in UTF-8 goes as its bytes in X-Gotify-Key; %25 is a percent sign", () => {
    expect(bytesAsUtf8(headerOf(`gotify://gotify.example.net/${EURO}`, "X-Gotify-Key"))).toBe("pässwörd€");
    const [percent] = requestOf("gotify://gotify.example.net/A%25B") ?? [];
    expect(percent?.headers).toMatchObject({ "X-Gotify-Key": "A%B" });
  });

  it("discord: a token in UTF-8 or with %25 goes encoded into the webhook's path", () => {
    expect(requestOf(`discord://${EURO}@123456789012345678`)?.[0]?.url).toBe(
      `https://discord.com/api/webhooks/123456789012345678/${EURO}`,
    );
    expect(requestOf("discord://A%25B@123456789012345678")?.[0]?.url).toBe(
      "https://discord.com/api/webhooks/123456789012345678/A%25B",
    );
  });

  it("generic: user and password in UTF-8 as Basic; a header value in UTF-8 as its bytes", () => {
    const generic = `generic+https://j%C3%BCrgen:${EURO}@hooks.example.net/x`;
    expect(basicOf(headerOf(generic, "Authorization"))).toBe("jürgen:pässwörd€");
    const header = `generic+https://hooks.example.net/x?@X-Key=${EURO}`;
    expect(bytesAsUtf8(headerOf(header, "X-Key"))).toBe("pässwörd€");
  });

  // Slack's webhook parts and Telegram's bot tokens are ASCII by the services' own rules.
  it.each([
    [
      "ntfy",
      "ntfy://alice:xq50%off@ntfy.sh/dns",
      'the password holds a "%" that is not followed by two hex digits',
    ],
    ["ntfy", "ntfy://xq%zzlice:pw@ntfy.sh/dns", 'the user holds a "%"'],
    ["ntfy", "ntfy://ntfy.sh/xq%ic", 'the topic holds a "%"'],
    ["ntfy", "ntfy://:xq%0Aabc@ntfy.sh/dns", "the token holds a line break"],
    ["gotify", "gotify://gotify.example.net/xq%en", 'the token holds a "%"'],
    ["discord", "discord://xq%en@123456789012345678", 'the token holds a "%"'],
    ["slack", "slack://hook:T0-B0-xq%E2%82%AC@webhook", "must be slack://hook:A-B-C@webhook"],
    ["slack", "slack://hook:T0-B0-xq%@webhook", 'the webhook holds a "%"'],
    ["slack", "slack://xq%@T0/B0/C0", 'the bot name holds a "%"'],
    ["telegram", "telegram://123:xq%en@telegram?chats=1", 'the bot token holds a "%"'],
    ["telegram", `telegram://123:xq${EURO}@telegram?chats=1`, "must be telegram://BOT_TOKEN@"],
    ["generic", "generic+https://user:xq%ss@hooks.example.net/x", 'the password holds a "%"'],
    ["generic", "generic+https://hooks.example.net/x?@X-Key=xq%0Db", "the header value holds a line break"],
  ])("%s: %s is a positional error, and the target after it still works", (service, url, start) => {
    const { targets, errors } = parseTargets(`${url} ntfy://ntfy.sh/after`);
    expect(errors).toHaveLength(1);
    expect(
      errors[0]?.startsWith(
        `NOTIFY_URLS #1 (${service === "generic" ? "generic+https" : service}): ${start}`,
      ),
    ).toBe(true);
    expect(errors[0]).not.toMatch(/xq|%E2/);
    expect(targets.map((t) => t.label)).toEqual(["#2 ntfy ntfy.sh"]);
  });
});

describe("one test message per client a minute", () => {
  it("waits out the minute since the client's last test, and then sends again", () => {
    expect(testWait(undefined, AT)).toBe(0);
    expect(testWait(AT, AT)).toBe(TEST_WINDOW_MS);
    expect(testWait(AT, AT + 1000)).toBe(TEST_WINDOW_MS - 1000);
    expect(testWait(AT, AT + TEST_WINDOW_MS)).toBe(0);
    expect(testWait(AT, AT + 3 * TEST_WINDOW_MS)).toBe(0);
  });
});

describe("once per host and kind per hour", () => {
  it("holds back within the hour, counts what it held in the next message after it", () => {
    let step = admit(undefined, EVENT, AT);
    expect(step.send).toEqual(EVENT);
    step = admit(step.keep, { ...EVENT, at: AT + 60_000, message: "second" }, AT + 60_000);
    expect(step.send).toBeUndefined();
    step = admit(step.keep, { ...EVENT, at: AT + 120_000, message: "third" }, AT + 120_000);
    expect(step.send).toBeUndefined();
    expect(step.keep).toMatchObject({ at: AT, held: 2, heldSince: AT + 60_000, last: "third" });
    step = admit(step.keep, { ...EVENT, message: "fourth" }, AT + NOTIFY_WINDOW_MS);
    expect(step.send?.message).toBe(
      "fourth (and 2 earlier changed message(s) for wg-end.example.tld held back since 2026-12-01T10:01:00.000Z)",
    );
    expect(step.keep).toMatchObject({ held: 0, at: AT + NOTIFY_WINDOW_MS });
  });

  it("the scheduled check sends what is still held once the hour is over, and nothing before", () => {
    const held = { at: AT, held: 3, heldSince: AT + 1000, last: "the last one" };
    expect(release(held, "failing", "nas.example.tld", AT + NOTIFY_WINDOW_MS - 1).send).toBeUndefined();
    const { send, keep } = release(held, "failing", "nas.example.tld", AT + NOTIFY_WINDOW_MS);
    expect(send).toEqual({
      kind: "failing",
      host: "nas.example.tld",
      message:
        "3 failing message(s) for nas.example.tld held back since 2026-12-01T10:00:01.000Z; the last: the last one",
      at: AT + NOTIFY_WINDOW_MS,
    });
    expect(keep.held).toBe(0);
    expect(
      release({ ...held, held: 0 }, "failing", undefined, AT + 2 * NOTIFY_WINDOW_MS).send,
    ).toBeUndefined();
  });
});

describe("a target of several requests (Telegram's chats)", () => {
  it(`sends them ${PARALLEL_REQUESTS} at a time, each without waiting for the others' answers`, async () => {
    const chats = 2 * PARALLEL_REQUESTS + 1;
    // Answers nothing until as many requests are in flight as a bounded parallel sender keeps
    // open: one request at a time would get no answer and fail with a time-out.
    let inFlight = 0;
    let most = 0;
    let left = chats;
    const held: (() => void)[] = [];
    const server = createServer((req, res) => {
      req.resume();
      inFlight++;
      most = Math.max(most, inFlight);
      held.push(() => {
        inFlight--;
        left--;
        res.end("{}");
      });
      if (inFlight >= Math.min(PARALLEL_REQUESTS, left)) for (const answer of held.splice(0)) answer();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const target: Target = {
      service: "telegram",
      label: "#1 telegram",
      requests: () =>
        Array.from({ length: chats }, (_, i) => ({ url: `${origin}/chat/${i}`, init: { method: "POST" } })),
    };
    try {
      expect(await deliver(target, EVENT)).toEqual({ target: "#1 telegram", delivered: true });
      expect(left).toBe(0);
      expect(most).toBe(PARALLEL_REQUESTS);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
