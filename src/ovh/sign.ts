// OVH request signature: "$1$" + hex SHA-1 of the secret, consumer key, method, the URL exactly
// as sent, the body exactly as sent and the timestamp, joined by "+" (docs/reference/ovh-api.md, test vectors
// in test/unit/ovh-sign.test.ts).
import { digestHex } from "../core/hex";

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
  return `$1$${await digestHex("SHA-1", text)}`;
}
