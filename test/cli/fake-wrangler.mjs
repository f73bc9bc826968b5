// A stand-in for wrangler in the CLI tests, so no test reaches Cloudflare. `secret list` prints
// the names in $FAKE_WRANGLER_SECRETS (comma-separated) as wrangler's JSON does, or, when that is
// unset, fails as wrangler does when it is not logged in. Anything else succeeds silently.
const [command, sub] = process.argv.slice(2);
if (command === "secret" && sub === "list") {
  const names = process.env.FAKE_WRANGLER_SECRETS;
  if (names === undefined) {
    process.stderr.write("✘ [ERROR] You are not authenticated. Please run `wrangler login`.\n");
    process.exit(1);
  }
  const list = names === "" ? [] : names.split(",").map((name) => ({ name, type: "secret_text" }));
  process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
}
