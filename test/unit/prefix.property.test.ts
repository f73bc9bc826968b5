// Properties of prefix arithmetic: every address derived from a reported prefix (or address) and a
// host_id lies inside the reported prefix cut to the effective length, and keeps the host bits.
//
// The rule (plan.ts targetFor + address.ts joinPrefix): a record keeps L = prefix_length, or the
// reported length when prefix_length is unset, top bits from the report and the rest from host_id.
// The report only carries R meaningful bits (parsePrefix clears the others): a record that keeps
// more (L > R) is refused, since bits R..L-1 would be invented as zeros. An address without a
// prefix counts as its /64, or its /L when the record keeps more than 64 bits.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { HostSpec } from "../../src/config";
import { fromBigInt, joinPrefix, networkMask, parsePrefix, toBigInt } from "../../src/core/address";
import { DEFAULT_LAN_PREFIX, planHost } from "../../src/core/plan";
import { collectParams } from "../../src/dyndns/params";
import { parseUpdate } from "../../src/dyndns/report";

const RUNS = { numRuns: 2000 };
const ALL = (1n << 128n) - 1n;
const u128 = fc.bigInt(0n, ALL);
/** Global unicast (2000::/3) values, so planHost without allow_private accepts most of them. */
const globalU128 = u128.map((v) => (v & (ALL >> 3n)) | (1n << 125n));
const reportedLength = fc.integer({ min: 16, max: 64 });
const prefixLength = fc.option(fc.integer({ min: 1, max: 127 }), { nil: undefined });

function host(hostId: bigint, pl: number | undefined, allowPrivate = true): HostSpec {
  return {
    name: "h.example.tld",
    zone: "example.tld",
    allowPrivate,
    records: [{ zone: "example.tld", subdomain: "h", type: "AAAA", ttl: 60, hostId, prefixLength: pl }],
  };
}

function request(query: string) {
  const parsed = parseUpdate(
    collectParams(new URLSearchParams(`hostname=h.example.tld&${query}`)),
    undefined,
  );
  if (!parsed.ok) throw new Error(JSON.stringify(parsed));
  return parsed.value;
}

/**
 * The one target planHost gives, as a bigint; undefined when it lands on an address no host may
 * have (multicast, unspecified, IPv4-mapped …), which is refused even with allow_private.
 */
function target(spec: HostSpec, query: string): bigint | undefined {
  const plan = planHost(spec, request(query));
  if (!plan.ok) {
    expect(plan.reason).toMatch(/cannot be a host's address/);
    return undefined;
  }
  expect(plan.records).toHaveLength(1);
  return toBigInt(plan.records[0]?.target ?? "");
}

describe("joinPrefix", () => {
  it("keeps min(L, R) bits of the report and every host bit below L", () => {
    fc.assert(
      fc.property(u128, reportedLength, fc.integer({ min: 0, max: 128 }), u128, (network, r, l, noise) => {
        const prefix = parsePrefix(`${fromBigInt(network)}/${r}`);
        if (!prefix.ok) throw new Error(prefix.reason);
        const hostId = noise & ~networkMask(l) & ALL;
        const joined = joinPrefix(prefix.value, l, hostId);
        if (!joined.ok) throw new Error(joined.reason);
        const value = toBigInt(joined.value.text);
        const keep = networkMask(Math.min(l, r));
        expect(value & keep).toBe(network & keep);
        expect(value & ~networkMask(l) & ALL).toBe(hostId);
        // Between R and L (when L > R) nothing but zeros: the report has no bits there.
        expect(value & networkMask(l) & ~networkMask(r) & ALL).toBe(0n);
      }),
      RUNS,
    );
  });

  it("refuses any host_id with a bit inside the kept length", () => {
    fc.assert(
      fc.property(u128, reportedLength, fc.integer({ min: 1, max: 128 }), u128, (network, r, l, noise) => {
        const hostId = noise | (1n << BigInt(128 - l)); // the lowest bit inside /l is set
        const prefix = parsePrefix(`${fromBigInt(network)}/${r}`);
        if (!prefix.ok) throw new Error(prefix.reason);
        const joined = joinPrefix(prefix.value, l, hostId);
        expect(joined).toEqual({ ok: false, reason: `host_id has bits inside the /${l} prefix` });
      }),
      RUNS,
    );
  });
});

describe("planHost", () => {
  it("a reported prefix: the target is in the report cut to min(L, R) and has the host bits", () => {
    fc.assert(
      fc.property(u128, reportedLength, prefixLength, u128, (network, r, pl, noise) => {
        const l = pl ?? r;
        const hostId = noise & ~networkMask(l) & ALL;
        const query = `ip6lanprefix=${fromBigInt(network)}/${r}`;
        if (l > r) {
          expect(planHost(host(hostId, pl), request(query))).toEqual({
            ok: false,
            reason: `h.example.tld: the reported prefix is a /${r}, shorter than the /${l} the record keeps`,
          });
          return;
        }
        const value = target(host(hostId, pl), query);
        if (value === undefined) return;
        const keep = networkMask(l);
        expect(value & keep).toBe(network & keep);
        expect(value & ~networkMask(l) & ALL).toBe(hostId);
      }),
      RUNS,
    );
  });

  it("a reported address and no prefix: the same with the address's /64, or /L when L > 64", () => {
    fc.assert(
      fc.property(u128, prefixLength, u128, (address, pl, noise) => {
        const l = pl ?? DEFAULT_LAN_PREFIX;
        const hostId = noise & ~networkMask(l) & ALL;
        const value = target(host(hostId, pl), `myipv6=${fromBigInt(address)}`);
        if (value === undefined) return;
        const keep = networkMask(l);
        expect(value & keep).toBe(address & keep);
        expect(value & ~networkMask(l) & ALL).toBe(hostId);
      }),
      RUNS,
    );
  });

  it("without allow_private the target is global, or the plan is refused; never a special address", () => {
    fc.assert(
      fc.property(fc.oneof(globalU128, u128), reportedLength, prefixLength, u128, (network, r, pl, noise) => {
        const l = pl ?? r;
        const hostId = noise & ~networkMask(l) & ALL;
        const plan = planHost(host(hostId, pl, false), request(`ip6lanprefix=${fromBigInt(network)}/${r}`));
        if (!plan.ok) {
          expect(plan.reason).toMatch(/is not a global address|cannot be a host's address|shorter than/);
          return;
        }
        const value = toBigInt(plan.records[0]?.target ?? "");
        expect(value >> 125n).toBe(1n); // inside 2000::/3
      }),
      RUNS,
    );
  });

  it("a host_id colliding with the effective length is refused, never written", () => {
    fc.assert(
      fc.property(globalU128, reportedLength, prefixLength, u128, (network, r, pl, noise) => {
        const l = pl ?? r;
        const hostId = (noise & ALL) | (1n << BigInt(128 - l));
        const plan = planHost(host(hostId, pl), request(`ip6lanprefix=${fromBigInt(network)}/${r}`));
        expect(plan).toEqual({
          ok: false,
          reason:
            l > r
              ? `h.example.tld: the reported prefix is a /${r}, shorter than the /${l} the record keeps`
              : `h.example.tld: host_id has bits inside the /${l} prefix`,
        });
      }),
      RUNS,
    );
  });
});
