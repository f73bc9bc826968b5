// `setup session`: a random SESSION_SECRET, the key material of the status page's login cookies
// (src/access/session.ts). Stored like the OVH secrets: wrangler secret put (--apply), .dev.vars
// (--dev-vars), or shown once with the command to store it.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { KEYS } from "../../src/config";
import type { Io } from "./io";
import { DEV_VARS, listWorkerSecrets, parseDevVars, putSecretsWithWrangler, writeDevVars } from "./secrets";
import { requireWranglerConfig, type WranglerConfig } from "./wrangler-config";

/** 32 random bytes as base64url: 43 characters, 256 bits. */
export function newSessionSecret(): string {
  return randomBytes(32).toString("base64url");
}

export async function setupSession(
  values: { config?: string; apply?: boolean; "dev-vars"?: boolean },
  io: Io,
): Promise<number> {
  const config = await requireWranglerConfig(io.cwd, values.config);
  const secret = newSessionSecret();
  const key = KEYS.sessionSecret;
  if (values["dev-vars"]) {
    const path = join(config.dir, DEV_VARS);
    await writeDevVars(path, [[key, secret]]);
    io.out(`Wrote ${key} to ${path} (mode 0600; keep it out of git).`);
  }
  if (values.apply) {
    io.out(`Storing ${key} in the Worker:`);
    await putSecretsWithWrangler(io, config.path, [[key, secret]]);
    io.out(`Stored ${key} with wrangler secret put. Everyone logged in to the status page logs in again.`);
  } else if (!values["dev-vars"]) {
    io.out(`A new ${key} (shown once; it signs the status page's login cookies):`);
    io.out("");
    io.out(`  ${secret}`);
    io.out("");
    io.out(`Store it with:  npx wrangler secret put ${key}   (paste it at the prompt)`);
  }
  return 0;
}

/**
 * After `setup ovh`: a SESSION_SECRET where the secrets went and none is yet, so the status page
 * can log in. One that exists is kept: a new one would log everyone out.
 */
export async function ensureSessionSecret(
  values: { apply?: boolean; "dev-vars"?: boolean },
  io: Io,
  config: WranglerConfig,
): Promise<void> {
  const key = KEYS.sessionSecret;
  io.out("");
  if (values["dev-vars"]) {
    const path = join(config.dir, DEV_VARS);
    if (parseDevVars(await readFile(path, "utf8")).get(key)) io.out(`${key}: ${DEV_VARS} has one; kept.`);
    else {
      await writeDevVars(path, [[key, newSessionSecret()]]);
      io.out(`Wrote a new ${key} (the status page's login) to ${path} as well.`);
    }
  }
  if (values.apply) {
    const listed = await listWorkerSecrets(io, config.path);
    if (!listed.ok) {
      io.out(
        `${key}: cannot see whether the Worker has one (${listed.why}); npm run setup -- session --apply makes it.`,
      );
    } else if (listed.names.has(key)) io.out(`${key}: the Worker has one; kept.`);
    else {
      await putSecretsWithWrangler(io, config.path, [[key, newSessionSecret()]]);
      io.out(`Stored a new ${key} (the status page's login) with wrangler secret put.`);
    }
  }
  if (!values.apply && !values["dev-vars"])
    io.out(`Next, the status page's login: npm run setup -- session (it makes ${key}).`);
}
