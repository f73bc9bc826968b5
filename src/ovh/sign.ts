// OVH request signature: "$1$" + hex SHA-1 of the secret, consumer key, method, the URL exactly
// as sent, the body exactly as sent and the timestamp, joined by "+" (ovh-api.md, test vectors
// in test/unit/ovh-sign.test.ts).
export interface SignInput {
  applicationSecret: string;
  consumerKey: string;
  method: string;
  url: string;
  body: string;
  timestamp: number;
}

export async function signRequest(input: SignInput): Promise<string> {
  const text = [
    input.applicationSecret,
    input.consumerKey,
    input.method,
    input.url,
    input.body,
    input.timestamp,
  ].join("+");
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return `$1$${toHex(new Uint8Array(digest))}`;
}

export function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return hex;
}
