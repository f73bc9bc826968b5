// The status page's script. It reads /status as JSON with the session cookie (HttpOnly: this
// script never sees it) and builds the page from text nodes only, so nothing a report carries
// (a user agent, a refused user name) can become markup.

const HISTORY_ASKED = 1000;
const PAGE_SIZE = 20;
const REFRESH_MS = 60_000;

const $ = (id) => document.getElementById(id);

/** An element with attributes and children (strings become text nodes). */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Number.POSITIVE_INFINITY)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return el;
}

/** A paragraph in which the `backticked` parts are code. */
function prose(text) {
  return h(
    "p",
    {},
    text.split("`").map((part, i) => (i % 2 === 1 ? h("code", { text: part }) : part)),
  );
}

// ---- time -------------------------------------------------------------------------------------

function ago(when) {
  const seconds = Math.round((Date.now() - new Date(when).getTime()) / 1000);
  if (seconds < 45) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}

function exact(when) {
  const d = new Date(when);
  return `${d.toLocaleString()} (${d.toISOString().replace("T", " ").slice(0, 19)} UTC)`;
}

/** "3 h ago", with the exact time on hover and for screen readers' "more info". */
function timeEl(when, fallback = "never") {
  if (when === null || when === undefined) return h("span", { class: "muted", text: fallback });
  const iso = new Date(when).toISOString();
  return h("time", { datetime: iso, title: exact(when), text: ago(when) });
}

/** An address that may wrap only after a colon (an IPv6 group is never split). */
function addressEl(tag, attrs, text) {
  const parts = String(text).split(":");
  return h(
    tag,
    attrs,
    parts.flatMap((part, i) => (i < parts.length - 1 ? [`${part}:`, h("wbr")] : [part])),
  );
}

// ---- OVH's reasons, for a person ---------------------------------------------------------------

/** "OVH PUT /domain/zone/…: 500 error (text/plain body) (query id …)" in a reason. */
const OVH_CALL = /OVH (?:GET|POST|PUT|DELETE) \S+: (?:(\d{3}) )?([^;]*)/;

/** What an OVH failure means, in a sentence; undefined when the text quotes no OVH call. */
function ovhSentence(text) {
  const call = OVH_CALL.exec(text);
  if (!call) return undefined;
  const status = Number(call[1] ?? 0);
  const said = call[2] ?? "";
  if (/^no answer within/.test(said)) return "OVH's API did not answer in time";
  if (/^network error/.test(said)) return "OVH's API could not be reached";
  if (/^no token/.test(said)) return "OVH gave the Worker no access token";
  if (status === 401 || status === 403) return "OVH refused the Worker's credentials";
  if (status === 429) return "OVH asked the Worker to make fewer calls";
  if (status >= 500) return `OVH's API failed on its side (HTTP ${status})`;
  if (status === 404) return "OVH could not find a record it had just listed";
  if (status) return `OVH refused a call (HTTP ${status})`;
  return "OVH's answer could not be used";
}

/**
 * A reason for a person first, the raw detail after: "OVH's API failed on its side (HTTP 500),
 * so the record was not written. The client retries …", then OVH's own words behind a disclosure.
 */
function reasonEls(text, cls) {
  const sentence = ovhSentence(text);
  if (!sentence) return [h("p", { class: cls, text: capital(text) })];
  const result = /^not written/.test(text) ? ", so the record was not written" : "";
  const next = text.split("; ").slice(1).join("; ");
  return [
    h("p", { class: cls, text: `${sentence}${result}.${next ? ` ${capital(next)}.` : ""}` }),
    h("details", { class: "detail" }, h("summary", { text: "OVH's answer" }), h("code", { text })),
  ];
}

const capital = (text) => (text ? text[0].toUpperCase() + text.slice(1) : "");

// ---- health -----------------------------------------------------------------------------------

const STATES = {
  ok: { word: "ok", mark: "✓" },
  never: { word: "never", mark: "○" },
  stale: { word: "stale", mark: "◷" },
  failing: { word: "failing", mark: "✕" },
  drift: { word: "drift", mark: "≠" },
  unserved: { word: "unserved", mark: "⚠" },
  unknown: { word: "unknown", mark: "?" },
};

/** What to check, when the Worker gives no reason of its own. */
const ADVICE = {
  never: "No report has arrived yet: check the router's DynDNS settings (see “Set up” below).",
  stale: "No report for a long time: is the router online and still sending updates?",
  failing: "Reports arrive but fail: the history below says why.",
  drift: "OVH holds another address than the last report: was the record changed by hand?",
  unserved: "A name server of the zone does not serve what was written: see each record below.",
};

function badge(state) {
  const s = STATES[state] ?? STATES.unknown;
  return h(
    "span",
    { class: `badge b-${STATES[state] ? state : "unknown"}` },
    h("span", { "aria-hidden": "true", text: s.mark }),
    ` ${s.word}`,
  );
}

// ---- outcomes ---------------------------------------------------------------------------------

const REFUSED = new Set(["badauth", "badrequest", "nohost", "notfqdn", "numhost", "abuse"]);

function outcomeLabel(entry) {
  switch (entry.outcome) {
    case "good":
      return entry.changes?.length ? "changed" : "good";
    case "nochg":
      return "unchanged";
    case "badauth":
      return "refused: wrong password";
    case "badrequest":
      return "refused: bad request";
    case "nohost":
      return "refused: host not allowed";
    case "notfqdn":
      return "refused: not a host name";
    case "numhost":
      return "refused: too many hosts";
    case "abuse":
      return "refused: too many";
    case "dnserr":
      return "DNS error";
    case "911":
      return "OVH failed";
    default:
      return entry.outcome;
  }
}

function outcomeClass(entry) {
  if (entry.outcome === "good") return entry.changes?.length ? "o-change" : "o-ok";
  if (entry.outcome === "nochg") return "o-same";
  if (REFUSED.has(entry.outcome)) return "o-refused";
  return "o-error";
}

// ---- talking to the Worker --------------------------------------------------------------------

async function api(path, init = {}) {
  const response = await fetch(path, {
    ...init,
    credentials: "same-origin",
    headers: { Accept: "application/json", ...(init.headers ?? {}) },
  });
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  return { status: response.status, ok: response.ok, body };
}

/**
 * POST to `path` for `button` (disabled meanwhile), showing `pending` in `out`: the answer (status
 * 0 when the Worker could not be reached), or undefined after a 401, once the page asks to log in.
 */
async function postFromButton(button, out, path, pending) {
  button.disabled = true;
  out.replaceChildren(pending);
  let answer;
  try {
    answer = await api(path, { method: "POST" });
  } catch {
    answer = { ok: false, status: 0, body: null };
  }
  button.disabled = false;
  if (answer.status !== 401) return answer;
  await load();
  return undefined;
}

// ---- state ------------------------------------------------------------------------------------

let report = null;
let page = 0;
let timer = 0;

function show(which) {
  $("loading").hidden = which !== "loading";
  $("login").hidden = which !== "login";
  $("dashboard").hidden = which !== "dashboard";
  $("session").hidden = which !== "dashboard";
  if (which !== "problem") $("problem").hidden = true;
}

function problem(text, more = []) {
  $("problem-text").textContent = text;
  $("problem-more").replaceChildren(...more);
  $("problem").hidden = false;
  $("loading").hidden = true;
}

/**
 * A Worker whose configuration is invalid or whose secrets are missing: which keys (never a
 * value), and the commands that say more. No one can log in until it is fixed and deployed.
 */
function configProblem({ error, configuration }) {
  const list = (title, keys) =>
    keys?.length
      ? [
          h("p", { text: title }),
          h(
            "ul",
            { class: "keys" },
            keys.map((k) => h("li", {}, h("code", { text: k }))),
          ),
        ]
      : [];
  problem(error, [
    ...list("Configuration keys with errors:", configuration.invalid),
    ...list("Secrets missing or wrong:", configuration.secrets),
    prose(
      "Where you deploy from, `npm run check` says what is wrong with each (and how to set a secret); `npx wrangler tail --format json` shows the Worker's own log. Deploy the fix, then try again.",
    ),
  ]);
}

async function load({ quiet = false } = {}) {
  if (!quiet) {
    show("loading");
    $("main").setAttribute("aria-busy", "true");
  }
  let answer;
  try {
    answer = await api(`/status?history=${HISTORY_ASKED}`);
  } catch {
    $("main").removeAttribute("aria-busy");
    problem("The Worker could not be reached. Check your connection and try again.");
    return;
  }
  $("main").removeAttribute("aria-busy");
  if (answer.status === 401) {
    report = null;
    show("login");
    $("username").focus();
    return;
  }
  if (answer.body?.configuration) {
    configProblem(answer.body);
    return;
  }
  if (!answer.ok || !answer.body) {
    problem(answer.body?.error ?? `The Worker answered ${answer.status}. Try again in a minute.`);
    return;
  }
  report = answer.body;
  show("dashboard");
  render();
  loadSetup();
  clearInterval(timer);
  timer = setInterval(() => {
    if (document.visibilityState === "visible") load({ quiet: true });
  }, REFRESH_MS);
}

// ---- rendering --------------------------------------------------------------------------------

function hostHealth(host) {
  if (host.health?.state) return host.health;
  // Before the Worker reports health: a host none of whose records is written was never reported.
  if (host.records.every((r) => r.target === null)) return { state: "never", reason: "", since: null };
  return { state: "unknown", reason: "", since: null };
}

function render() {
  $("client-name").textContent = report.client;
  $("setup-client").textContent = report.client;
  const counts = {};
  for (const host of report.hosts) {
    const { state } = hostHealth(host);
    counts[state] = (counts[state] ?? 0) + 1;
  }
  const n = report.hosts.length;
  const attention = report.hosts.filter((host) => hostHealth(host).state !== "ok");
  const summary = $("summary");
  if (n === 0) summary.replaceChildren("No hosts to show.");
  else if (attention.length === 0)
    summary.replaceChildren(h("strong", { text: n === 1 ? "The host is ok." : `All ${n} hosts are ok.` }));
  else {
    summary.replaceChildren(
      h("strong", {
        text: `${attention.length} of ${n} host${n === 1 ? "" : "s"} need${attention.length === 1 ? "s" : ""} attention: `,
      }),
      ...attention.flatMap((host, i) => [
        ...(i > 0 ? [", "] : []),
        h("a", { href: `#${hostId(host.name)}`, text: host.name }),
        ` (${STATES[hostHealth(host).state]?.word ?? "unknown"})`,
      ]),
    );
  }
  summary.className = `summary ${
    n > 0 && attention.length === 0
      ? "all-ok"
      : counts.failing || counts.drift
        ? "bad"
        : attention.length
          ? "warn"
          : ""
  }`;

  $("hosts-empty").hidden = n > 0;
  $("hosts").replaceChildren(...report.hosts.map(hostCard));

  const select = $("history-host");
  const chosen = select.value;
  select.replaceChildren(
    h("option", { value: "", text: "All hosts" }),
    ...report.hosts.map((host) => h("option", { value: host.name, text: host.name })),
  );
  select.value = report.hosts.some((host) => host.name === chosen) ? chosen : "";
  renderHistory();
  renderFailedLogins();
  $("updated").textContent = `Updated ${new Date().toLocaleTimeString()}`;
}

/** The id of a host card's heading, for the summary's links. */
function hostId(name) {
  return `host-${name.replace(/[^a-z0-9]/gi, "-")}`;
}

function hostCard(host) {
  const health = hostHealth(host);
  const advice = health.state === "ok" ? "" : health.reason || ADVICE[health.state] || "";
  const id = hostId(host.name);
  const last = host.lastReport;
  return h(
    "article",
    { class: `host s-${health.state}`, "aria-labelledby": id },
    h("header", { class: "host-head" }, h("h3", { id, text: host.name }), badge(health.state)),
    advice ? reasonEls(advice, "advice") : null,
    health.since && health.state !== "ok"
      ? h(
          "p",
          { class: "since" },
          `${STATES[health.state]?.word ?? health.state} since `,
          timeEl(health.since),
        )
      : null,
    h(
      "ul",
      { class: "records", "aria-label": `Records of ${host.name}` },
      host.records.map((r) =>
        h(
          "li",
          { class: "record" },
          h("div", { class: "rec-name" }, h("span", { class: "type", text: r.type }), ` ${r.name}`),
          r.target === null
            ? h("div", {
                class: "target muted",
                text: r.unconfirmed ? "sent, not confirmed" : "not written yet",
              })
            : addressEl("div", { class: "target" }, r.target),
          servedEl(r),
          r.unconfirmed
            ? h(
                "p",
                { class: "unconfirmed" },
                h("span", { class: "badge b-unconfirmed", text: "unconfirmed" }),
                " A write was sent and OVH has not confirmed it, so what is served is not known: the next report writes it again.",
              )
            : null,
          h(
            "div",
            { class: "rec-meta" },
            `TTL ${r.ttl} s · changed `,
            timeEl(r.changedAt),
            " · confirmed ",
            timeEl(r.confirmedAt),
          ),
        ),
      ),
    ),
    h(
      "p",
      { class: "last-report" },
      h("span", { class: "label", text: "Last report " }),
      last
        ? [
            timeEl(last.at),
            last.source ? [" from ", addressEl("span", { class: "addr" }, last.source)] : "",
            last.client ? ` by ${last.client}` : "",
            last.outcome
              ? [" · ", h("span", { class: `outcome ${outcomeClass(last)}`, text: outcomeLabel(last) })]
              : "",
            last.agent ? h("span", { class: "agent", title: last.agent, text: last.agent }) : "",
          ]
        : h("span", { class: "muted", text: last === null ? "none yet" : "see the history" }),
    ),
    h(
      "p",
      { class: "host-links" },
      h("button", { type: "button", class: "link", "data-host": host.name, text: "History of this host" }),
    ),
  );
}

// ---- served ------------------------------------------------------------------------------------

/** "a, b and c" */
function listed(items) {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

/** What one server answers, in words. */
function answerText(a, type) {
  if (a.records === null) return `gives no answer (${a.reason ?? "unknown"})`;
  if (a.reason === "NXDOMAIN") return "answers that the name does not exist";
  if (a.records.length === 0) return `answers no ${type} record`;
  return `answers ${a.records.join(", ")}`;
}

/** Whether the name servers serve a record's target, beside it: served, waiting or unserved. */
function servedEl(r) {
  const s = r.served;
  if (!s) return null;
  const off = s.servers.filter((a) => !(a.records?.length === 1 && a.records[0] === s.target));
  let text;
  if (s.state === "served") {
    const by = `served by ${listed(s.servers.map((a) => a.server))}`;
    text = s.seconds === null ? by : `${by}, ${Math.round(s.seconds)} s after the report`;
  } else if (s.servers.length === 0) {
    text = `${s.state}: the zone's name servers are asked a few seconds after the change`;
  } else {
    const still = s.state === "waiting" ? "still " : "";
    text = `${s.state}: ${listed(off.map((a) => `${a.server} ${still}${answerText(a, r.type)}`))}`;
  }
  return h(
    "p",
    { class: `served v-${s.state}`, "data-served": s.state },
    h("span", {
      "aria-hidden": "true",
      text: s.state === "served" ? "✓ " : s.state === "waiting" ? "◷ " : "⚠ ",
    }),
    text,
    " · ",
    timeEl(s.state === "waiting" ? s.startedAt : s.since),
  );
}

/** "Check now": ask the name servers at once, then show what they answered. */
async function checkNow() {
  const out = $("check-result");
  const pending = h("span", { class: "muted", text: "Asking the name servers…" });
  const answer = await postFromButton($("check-now"), out, "/status/check", pending);
  if (!answer) return;
  if (!answer.ok || !Array.isArray(answer.body?.records)) {
    const why = answer.body?.error ?? `The Worker answered ${answer.status}.`;
    out.replaceChildren(h("span", { class: "error", text: why }));
    return;
  }
  const records = answer.body.records;
  const served = records.filter((x) => x.served.state === "served").length;
  const servers = listed(Object.values(answer.body.servers ?? {}).flat());
  const problems = (answer.body.problems ?? []).filter((p) => typeof p === "string");
  out.replaceChildren(
    h("span", {
      text: `Asked ${servers || "no name server"}: ${served} of ${records.length} records served.${problems.length ? ` ${problems.join(" ")}` : ""}`,
    }),
  );
  await load({ quiet: true });
}

function filteredHistory() {
  const host = $("history-host").value;
  const changesOnly = document.querySelector('input[name="show"]:checked')?.value === "changes";
  return (report?.history ?? []).filter(
    (e) => (!host || e.host === host) && (!changesOnly || (e.changes?.length ?? 0) > 0),
  );
}

function renderHistory() {
  const entries = filteredHistory();
  const pages = Math.max(1, Math.ceil(entries.length / PAGE_SIZE));
  page = Math.min(page, pages - 1);
  const shown = entries.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
  const empty = $("history-empty");
  empty.hidden = entries.length > 0;
  empty.textContent = report?.history?.length ? "Nothing matches this filter." : "No reports yet.";
  $("history").replaceChildren(...shown.map(historyEntry));
  $("pager").hidden = pages <= 1;
  $("page-info").textContent = `Page ${page + 1} of ${pages}`;
  $("newer").disabled = page === 0;
  $("older").disabled = page >= pages - 1;
}

function historyEntry(e) {
  const who = REFUSED.has(e.outcome) ? `user ${e.client || "(none)"}` : e.client;
  return h(
    "li",
    { class: `entry ${outcomeClass(e)}` },
    h(
      "div",
      { class: "entry-head" },
      timeEl(e.at),
      h("span", { class: "entry-host", text: e.host || "(no host)" }),
      h("span", { class: `outcome ${outcomeClass(e)}`, text: outcomeLabel(e) }),
    ),
    e.changes?.length
      ? h(
          "ul",
          { class: "changes" },
          e.changes.map((c) =>
            h(
              "li",
              {},
              h("span", { class: "type", text: c.type }),
              ` ${c.name} `,
              c.from
                ? addressEl("span", { class: "from" }, c.from)
                : h("span", { class: "from", text: "(new)" }),
              h("span", { "aria-label": "became", text: " → " }),
              addressEl("span", { class: "to" }, c.to),
              c.prefix
                ? h("span", { class: "via" }, " from prefix ", addressEl("code", { class: "addr" }, c.prefix))
                : null,
            ),
          ),
        )
      : null,
    e.note ? reasonEls(e.note, "note") : null,
    h(
      "p",
      { class: "entry-meta" },
      [
        e.reported ? ["reported ", addressEl("span", { class: "addr" }, e.reported)] : null,
        e.source ? ["from ", addressEl("span", { class: "addr" }, e.source)] : null,
        who || null,
      ]
        .filter(Boolean)
        .flatMap((part, i) => (i > 0 ? [" · ", part] : [part])),
      e.repeats > 1
        ? [" · ", h("strong", { text: `${e.repeats} times` }), ", the last ", timeEl(e.lastAt)]
        : "",
    ),
  );
}

function renderFailedLogins() {
  const rows = report?.failedLogins ?? [];
  $("failed-logins").hidden = rows.length === 0;
  $("failed-rows").replaceChildren(
    ...rows.map((f) =>
      h(
        "tr",
        {},
        h("td", { text: f.user || "(none)" }),
        h("td", { text: f.source ?? "?" }),
        h("td", { text: String(f.count) }),
        h("td", {}, timeEl(f.lastAt)),
      ),
    ),
  );
}

// ---- setup help -------------------------------------------------------------------------------

async function loadSetup() {
  const box = $("setup");
  let answer;
  try {
    answer = await api("/status/setup");
  } catch {
    answer = { ok: false };
  }
  if (!answer.ok || !Array.isArray(answer.body?.recipes)) {
    box.replaceChildren(h("p", { class: "muted", text: "Setup help is not available from this Worker." }));
    return;
  }
  box.replaceChildren(
    ...answer.body.recipes.map((recipe, i) =>
      h(
        "details",
        { class: "recipe", open: i === 0 },
        h("summary", { text: recipe.title }),
        recipe.note ? h("p", { class: "muted", text: recipe.note }) : null,
        h("pre", { tabindex: "0" }, h("code", { text: recipe.text })),
        Array.isArray(recipe.fields)
          ? h(
              "p",
              { class: "copies" },
              recipe.fields.map((f) => copyButton(f.value, `Copy ${f.label}`)),
            )
          : copyButton(recipe.text, "Copy"),
      ),
    ),
  );
}

/** A button that copies `text` (only the value: a router's field takes no label). */
function copyButton(text, label) {
  const button = h("button", { type: "button", class: "quiet", text: label });
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "Copied";
    } catch {
      button.textContent = "Select the text to copy it";
    }
    setTimeout(() => {
      button.textContent = label;
    }, 2000);
  });
  return button;
}

// ---- test notification ------------------------------------------------------------------------

async function notifyTest() {
  const out = $("notify-result");
  const pending = h("p", { class: "muted", text: "Sending…" });
  const answer = await postFromButton($("notify"), out, "/status/notify-test", pending);
  if (!answer) return;
  const targets = Array.isArray(answer.body) ? answer.body : (answer.body?.targets ?? answer.body?.results);
  if (!Array.isArray(targets)) {
    const why =
      answer.body?.error?.replace(/\.$/, "") ??
      (answer.status === 404
        ? "this Worker has no notifications yet"
        : `the Worker answered ${answer.status}`);
    out.replaceChildren(h("p", { class: "error", text: `Not sent: ${why}.` }));
    return;
  }
  const errors = (Array.isArray(answer.body?.errors) ? answer.body.errors : []).filter(
    (e) => typeof e === "string",
  );
  const wrong = errors.filter((e) => !/is not set/.test(e));
  out.replaceChildren(
    targets.length === 0 && wrong.length === 0
      ? h(
          "div",
          { class: "hint" },
          h("p", { class: "muted", text: "No notification target is configured." }),
          prose(
            "Put the services' URLs (ntfy://, gotify://, discord://, slack://, telegram://, generic+https://) into the Worker's `NOTIFY_URLS` secret: `npx wrangler secret put NOTIFY_URLS` (or a line in `.dev.vars` for `npm start`), then `npm run check` checks them. The README's “Notifications” lists each service's URL.",
          ),
        )
      : h(
          "ul",
          { class: "results" },
          targets.map((t) => {
            const delivered = t.delivered ?? t.ok ?? false;
            const name = t.target ?? t.name ?? t.kind ?? "target";
            const detail = t.error ?? t.reason ?? t.detail ?? "";
            return h(
              "li",
              { class: delivered ? "o-ok" : "o-error" },
              h("span", {
                class: `outcome ${delivered ? "o-ok" : "o-error"}`,
                text: delivered ? "delivered" : "failed",
              }),
              ` ${name}`,
              detail ? h("span", { class: "muted", text: ` — ${detail}` }) : "",
            );
          }),
        ),
    wrong.length > 0
      ? h(
          "ul",
          { class: "results errors", "aria-label": "What is wrong with NOTIFY_URLS" },
          wrong.map((e) =>
            h("li", { class: "o-error" }, h("span", { class: "outcome o-error", text: "not used" }), ` ${e}`),
          ),
        )
      : null,
    answer.body?.details === false && targets.length > 0
      ? h("p", {
          class: "muted",
          text: "Which service each number is, and why one failed, is shown to admin clients (CLIENTS.<name>.admin = true).",
        })
      : null,
  );
}

// ---- wiring -----------------------------------------------------------------------------------

async function logIn(event) {
  event.preventDefault();
  const form = event.target;
  const error = $("login-error");
  const user = $("username");
  const password = $("password");
  if (!user.value || !password.value) {
    error.textContent = "Enter the client name and its password.";
    error.hidden = false;
    (user.value ? password : user).focus();
    return;
  }
  const button = $("login-button");
  button.disabled = true;
  error.hidden = true;
  let answer;
  try {
    answer = await api("/status/login", {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
    });
  } catch {
    answer = { ok: false, body: { error: "The Worker could not be reached." } };
  }
  button.disabled = false;
  if (!answer.ok) {
    error.textContent = answer.body?.error ?? `Login failed (${answer.status}).`;
    error.hidden = false;
    password.select();
    password.focus();
    return;
  }
  password.value = "";
  page = 0;
  await load();
  $("summary").focus?.();
}

async function logOut() {
  clearInterval(timer);
  try {
    await api("/status/logout", { method: "POST" });
  } catch {
    // the cookie stays until it expires; the page still forgets what it showed
  }
  report = null;
  $("hosts").replaceChildren();
  $("history").replaceChildren();
  $("setup").replaceChildren();
  $("notify-result").replaceChildren();
  show("login");
  $("username").focus();
}

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", logIn);
  $("logout").addEventListener("click", logOut);
  $("refresh").addEventListener("click", () => load({ quiet: true }));
  $("retry").addEventListener("click", () => load());
  $("notify").addEventListener("click", notifyTest);
  $("check-now").addEventListener("click", checkNow);
  $("history-filter").addEventListener("change", () => {
    page = 0;
    renderHistory();
  });
  $("history-filter").addEventListener("submit", (e) => e.preventDefault());
  $("newer").addEventListener("click", () => {
    page = Math.max(0, page - 1);
    renderHistory();
  });
  $("older").addEventListener("click", () => {
    page += 1;
    renderHistory();
  });
  $("hosts").addEventListener("click", (event) => {
    const host = event.target.closest?.("button[data-host]")?.getAttribute("data-host");
    if (!host) return;
    $("history-host").value = host;
    page = 0;
    renderHistory();
    $("history-title").scrollIntoView({ behavior: "smooth", block: "start" });
    $("history-host").focus({ preventScroll: true });
  });
  load();
});
