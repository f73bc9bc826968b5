// Headless Chromium for the status page's tests: Debian's `chromium` package (.ci/run installs
// it), driven by playwright-core, which downloads no browser of its own. CHROMIUM_PATH overrides
// where it is. Screenshots go to .tmp/artifacts/ (not committed); ARTIFACTS_DIR overrides it.
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { ROOT } from "./endpoint";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const ARTIFACTS = process.env.ARTIFACTS_DIR ?? join(ROOT, ".tmp", "artifacts");

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true });
}

/** A full-page screenshot in the artifacts directory; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
