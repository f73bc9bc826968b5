// What each configured record of a host should hold after a report. Pure: no I/O.

import type { HostSpec, RecordSpec } from "../config";
import type { UpdateRequest } from "../dyndns/report";
import { type Address, inPrefix, isGlobal, joinPrefix, type Prefix, prefixOf } from "./address";

/** A record and the target it should have. */
export interface Desired {
  host: string;
  spec: RecordSpec;
  target: string;
  /**
   * For a record with host_id: the prefix its target was derived from (the reported prefix, or
   * the reported address's /64), so the history can say where the address came from.
   */
  prefix?: string;
}

export type HostPlan = { ok: true; records: Desired[] } | { ok: false; reason: string };

/** Length used when a host_id record gets only an address, no prefix (the usual LAN /64). */
export const DEFAULT_LAN_PREFIX = 64;

/**
 * The targets for `host`. A family the request does not carry leaves that family's records out
 * of the plan (untouched); nothing is ever planned for deletion.
 */
export function planHost(host: HostSpec, req: UpdateRequest): HostPlan {
  const records: Desired[] = [];
  // Records from the IPv6 address and records from the reported prefix must name one network.
  let fromAddress = false;
  let fromPrefix = false;
  for (const spec of host.records) {
    const target = targetFor(spec, req);
    if (target === undefined) continue;
    if (!target.ok) return { ok: false, reason: `${host.name}: ${target.reason}` };
    if (spec.type === "AAAA") {
      if (spec.hostId === undefined) fromAddress = true;
      else if (req.prefix) fromPrefix = true;
    }
    if (NEVER_A_HOST.has(target.value.range)) {
      return {
        ok: false,
        reason: `${what(target.value, spec, req)} cannot be a host's address (${describeRange(target.value.range)})`,
      };
    }
    if (!host.allowPrivate && !isGlobal(target.value)) {
      return { ok: false, reason: refusal(target.value, spec, req) };
    }
    const desired: Desired = { host: host.name, spec, target: target.value.text };
    if (target.prefix) desired.prefix = target.prefix.text;
    records.push(desired);
  }
  if (fromAddress && fromPrefix && req.v6 && req.prefix && !inPrefix(req.v6, req.prefix)) {
    return {
      ok: false,
      reason: `${host.name}: the IPv6 address is outside the reported prefix, so its records would point into two networks`,
    };
  }
  return { ok: true, records };
}

type Target = { ok: true; value: Address; prefix?: Prefix } | { ok: false; reason: string };

function targetFor(spec: RecordSpec, req: UpdateRequest): Target | undefined {
  if (spec.type === "A") return req.v4 && { ok: true, value: req.v4 };
  if (spec.hostId === undefined) return req.v6 && { ok: true, value: req.v6 };
  // An address alone stands for its /64, or for as many bits as the record keeps past that. Not
  // when the request sent its prefix field empty: that client (a FRITZ!Box) keeps its LAN
  // prefix apart from its address, which is then its WAN address, usually in another network.
  const fromAddress = Math.max(DEFAULT_LAN_PREFIX, spec.prefixLength ?? 0);
  const prefix =
    req.prefix ?? (req.v6 && req.emptyPrefix.length === 0 ? prefixOf(req.v6, fromAddress) : undefined);
  if (!prefix) return undefined;
  // Keeping more bits than were reported would fill the missing ones with zeros.
  if (spec.prefixLength !== undefined && spec.prefixLength > prefix.length) {
    return {
      ok: false,
      reason: `the reported prefix is a /${prefix.length}, shorter than the /${spec.prefixLength} the record keeps`,
    };
  }
  const joined = joinPrefix(prefix, spec.prefixLength ?? prefix.length, spec.hostId);
  return joined.ok ? { ...joined, prefix } : joined;
}

/**
 * Ranges no host record may hold, allow_private or not: they name no single host (unspecified,
 * broadcast, multicast) or are IPv4 written as IPv6, which belongs in an A record.
 */
const NEVER_A_HOST = new Set(["unspecified", "broadcast", "multicast", "ipv4Mapped", "rfc6145"]);

/** What the refused target came from, for the reason. */
function what(addr: Address, spec: RecordSpec, req: UpdateRequest): string {
  const kind = addr.family === "v4" ? "IPv4" : "IPv6";
  return spec.hostId !== undefined && req.prefix ? "the prefix" : `the ${kind} address`;
}

function refusal(addr: Address, spec: RecordSpec, req: UpdateRequest): string {
  return `${what(addr, spec, req)} is not a global address (${describeRange(addr.range)}); set allow_private on the host to accept it`;
}

const RANGE_NAMES: Record<string, string> = {
  private: "private network",
  uniqueLocal: "unique local, fc00::/7",
  linkLocal: "link-local",
  loopback: "loopback",
  carrierGradeNat: "carrier-grade NAT, 100.64.0.0/10",
  multicast: "multicast",
  reserved: "reserved or documentation range",
  unspecified: "unspecified",
  broadcast: "broadcast",
  ipv4Mapped: "IPv4-mapped",
  rfc6145: "IPv4-translated",
};

function describeRange(range: string): string {
  return RANGE_NAMES[range] ?? `special range ${range}`;
}
