// The project's OVH client (src/ovh/client.ts) as the CLI uses it, and OVH's errors turned into
// what the user should do about them. Messages name keys, never their values.
import { KEYS, type OvhCredentials } from "../../src/config";
import { OvhClient, OvhError } from "../../src/ovh/client";
import type { Io } from "./io";
import type { AccessRule } from "./rules";

/** Per call; generous, since a person is waiting rather than a router. */
export const OVH_TIMEOUT_MS = 15_000;

export function ovhClient(io: Io, endpoint: string, credentials: OvhCredentials): OvhClient {
  return new OvhClient({
    endpoint,
    credentials,
    timeoutMs: OVH_TIMEOUT_MS,
    fetch: io.fetch,
    now: () => Math.floor(io.now() / 1000),
  });
}

/** GET /auth/currentCredential, the part of it the CLI reads. */
export interface CurrentCredential {
  status: string;
  rules: AccessRule[];
  expiration: string | null;
}

export async function currentCredential(client: OvhClient): Promise<CurrentCredential> {
  const c = await client.request<Partial<CurrentCredential> | null>("GET", "/auth/currentCredential");
  return {
    status: typeof c?.status === "string" ? c.status : "unknown",
    rules: Array.isArray(c?.rules) ? c.rules : [],
    expiration: typeof c?.expiration === "string" ? c.expiration : null,
  };
}

/** OVH messages the CLI tells apart (docs/reference/ovh-api.md, "Errors"). */
export const OVH_MESSAGES = {
  invalidSignature: /invalid signature/i,
  invalidApplication: /invalid application key/i,
  invalidCredential: /this credential is not valid/i,
  notGranted: /has not been granted/i,
  iamDenied: /user not granted/i,
  noService: /service does not exist/i,
} as const;

export function isOvhError(error: unknown, status: number, message?: RegExp): boolean {
  return (
    error instanceof OvhError &&
    error.kind === "http" &&
    error.status === status &&
    (message === undefined || message.test(error.ovhMessage))
  );
}

/** One line: what went wrong and what to do. The OVH query id is kept for support. */
export function explainOvhError(error: unknown, endpoint: string): string {
  if (!(error instanceof OvhError)) return error instanceof Error ? error.message : String(error);
  const call = `${error.method} ${error.path}`;
  const qid = error.queryId ? ` [OVH query id ${error.queryId}]` : "";
  if (error.kind === "timeout" || error.kind === "network") {
    return `cannot reach the OVH API at ${endpoint} (${error.ovhMessage}); check ${KEYS.endpoint} in wrangler.toml and the network`;
  }
  if (isOvhError(error, 400, OVH_MESSAGES.invalidSignature)) {
    return `OVH refused the signature of ${call}: ${KEYS.applicationSecret} does not belong to ${KEYS.applicationKey}, or this computer's clock is off by minutes${qid}`;
  }
  if (isOvhError(error, 403, OVH_MESSAGES.invalidApplication)) {
    return `${KEYS.applicationKey} is not known at ${endpoint}; was the application created for another OVH endpoint (${KEYS.endpoint})?${qid}`;
  }
  if (isOvhError(error, 403, OVH_MESSAGES.invalidCredential)) {
    return `${KEYS.consumerKey} is not valid (never validated, expired or revoked); get a new one with: npm run setup -- ovh${qid}`;
  }
  if (isOvhError(error, 403, OVH_MESSAGES.notGranted)) {
    return `the consumer key's access rules do not allow ${call}; get a key for the configured zones with: npm run setup -- ovh${qid}`;
  }
  if (isOvhError(error, 404, OVH_MESSAGES.noService)) {
    const zone = /^\/domain\/zone\/([^/]+)/.exec(error.path)?.[1];
    return zone
      ? `zone ${zone} is not in the OVH account behind these keys (OVH: "${error.ovhMessage}")${qid}`
      : error.message;
  }
  return error.message;
}
