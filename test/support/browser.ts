// Headless Chromium for the status page's tests, driven by playwright-core, which downloads no
// browser of its own: Debian's `chromium-headless-shell` (.ci/run installs it), Chromium's headless
// build without the desktop browser around it, which is what Playwright itself runs headless (a
// quarter less CPU here than the full browser); else Debian's `chromium`. CHROMIUM_PATH overrides
// both. Screenshots go to .tmp/artifacts/ (not committed); ARTIFACTS_DIR overrides it.
//
// One Chromium per test process, shared by the files it runs (vitest.config.ts: isolate false),
// and one tab per file, reset before each test (freshPage): a new context and tab cost a renderer
// process each, about 0.4 s of CPU and a second of waiting on this machine, a launch as much again.
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type Browser, type BrowserContext, type Cookie, chromium, type Page } from "playwright-core";
import { ROOT } from "./endpoint";

const SHELL = "/usr/bin/chromium-headless-shell";
export const CHROMIUM =
  process.env.CHROMIUM_PATH ?? [SHELL, "/usr/bin/chromium"].find((path) => existsSync(path)) ?? SHELL;
export const ARTIFACTS = process.env.ARTIFACTS_DIR ?? join(ROOT, ".tmp", "artifacts");

let launched: Promise<Browser> | undefined;

/**
 * The test process's Chromium, launched by the first file that asks. No file closes it: it ends
 * with the process (Playwright kills it at exit, and Chromium quits when its DevTools pipe to the
 * process closes, even when the process is killed).
 */
export function processChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: install Debian's (apt-get install chromium-headless-shell) or set CHROMIUM_PATH`,
    );
  }
  if (!launched) {
    const browser = chromium.launch({ executablePath: CHROMIUM, headless: true });
    launched = browser;
    browser.then(
      (b) => b.on("disconnected", () => (launched = undefined)),
      () => (launched = undefined),
    );
  }
  return launched;
}

/** How a test's page starts, as a new context would: no cookies but `cookies`, no routes. */
export interface PageOptions {
  width?: number;
  height?: number;
  dark?: boolean;
  /** Allow the page to read and write the clipboard. */
  clipboard?: boolean;
  cookies?: Cookie[];
}

export interface Tab {
  context: BrowserContext;
  /**
   * The file's one page, reset to `options` as a new context's page would start; it still shows
   * the last test's page until the test's first goto. (Not by way of about:blank: the status page's
   * Cross-Origin-Opener-Policy makes each navigation between the two start a renderer process.)
   */
  freshPage(options?: PageOptions): Promise<Page>;
  close(): Promise<void>;
}

/** A context with one page, for one file's tests: each test takes it through freshPage(). */
export async function openTab(): Promise<Tab> {
  const context = await (await processChromium()).newContext();
  const page = await context.newPage();
  return {
    context,
    async freshPage(options = {}) {
      await page.unrouteAll({ behavior: "ignoreErrors" });
      await context.clearCookies();
      await context.clearPermissions();
      if (options.clipboard) await context.grantPermissions(["clipboard-read", "clipboard-write"]);
      if (options.cookies) await context.addCookies(options.cookies);
      await page.setViewportSize({ width: options.width ?? 1280, height: options.height ?? 900 });
      await page.emulateMedia({ colorScheme: options.dark ? "dark" : "light" });
      return page;
    },
    close: () => context.close(),
  };
}

/** A full-page screenshot in the artifacts directory; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
