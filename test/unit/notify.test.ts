// NOTIFY_URLS (src/notify/targets.ts): each shoutrrr-style URL becomes the exact request the
// service's API documents, and a wrong URL is one line that never repeats a token; the hourly
// dedupe (src/notify/dedupe.ts).
import { describe, expect, it } from "vitest";
import { admit, NOTIFY_WINDOW_MS, release } from "../../src/notify/dedupe";
import { parseTargets } from "../../src/notify/targets";
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
    ["pushover://shoutrrr:tokensecret@userkey", 'NOTIFY_URLS, URL 1: "pushover://" is not a known service'],
    ["https://example.net/tokensecret", 'NOTIFY_URLS, URL 1: "https://" is not a known service'],
    ["tokensecret", "NOTIFY_URLS, URL 1: is not a URL of a known service"],
    [
      "discord://tokensecret@not-a-number",
      "NOTIFY_URLS, URL 1 (discord): must be discord://TOKEN@WEBHOOK_ID",
    ],
    ["ntfy://tokensecret@ntfy.sh/", "NOTIFY_URLS, URL 1 (ntfy): must be ntfy://[user:password@]host/topic"],
    [
      "gotify://gotify.example.net/",
      "NOTIFY_URLS, URL 1 (gotify): must be gotify://host[:port][/path]/token",
    ],
    [
      "slack://xoxb:tokensecret@C012345",
      "NOTIFY_URLS, URL 1 (slack): a bot token (xoxb) needs Slack's chat API",
    ],
    ["slack://hook:tokensecret@webhook", "NOTIFY_URLS, URL 1 (slack): must be slack://hook:A-B-C@webhook"],
    ["telegram://123:tokensecret@telegram", "NOTIFY_URLS, URL 1 (telegram): names no chat"],
    [
      "telegram://tokensecret@telegram?chats=1",
      "NOTIFY_URLS, URL 1 (telegram): must be telegram://BOT_TOKEN@",
    ],
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
