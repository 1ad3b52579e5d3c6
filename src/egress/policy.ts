import os from 'node:os';
import ipaddr from 'ipaddr.js';
import { AppError } from '../shared/errors.ts';

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Range = [Address, number];

/**
 * Never reachable from Firebreak, whatever the configuration: cloud metadata services live on link-local
 * addresses (169.254.169.254, fd00:ec2::254), and "this network", multicast and broadcast addresses are
 * never a legitimate webhook, check or Prometheus.
 */
const ALWAYS_REFUSED: readonly { cidr: string; what: string }[] = [
  { cidr: '169.254.0.0/16', what: 'a link-local address (cloud metadata lives here)' },
  { cidr: 'fe80::/10', what: 'a link-local address' },
  { cidr: 'fd00:ec2::254/128', what: 'a cloud metadata address' },
  { cidr: '0.0.0.0/8', what: 'a "this network" address' },
  { cidr: '::/128', what: 'the unspecified address' },
  { cidr: '224.0.0.0/4', what: 'a multicast address' },
  { cidr: 'ff00::/8', what: 'a multicast address' },
  { cidr: '255.255.255.255/32', what: 'the broadcast address' },
];

const ALWAYS_REFUSED_RANGES = ALWAYS_REFUSED.map((r) => ({ range: ipaddr.parseCIDR(r.cidr) as Range, what: r.what }));

type Rule = { kind: 'range'; range: Range; text: string } | { kind: 'host'; suffix: string | null; exact: string | null; text: string };

export interface EgressRules {
  /** When given, only destinations matching one of these (CIDRs or host patterns) are reachable. */
  allow?: readonly string[];
  /** Destinations matching one of these are refused. */
  deny?: readonly string[];
}

/** Parses a comma- or space-separated FIREBREAK_EGRESS_ALLOW / FIREBREAK_EGRESS_DENY value. */
export function parseEgressList(value: string | undefined, variable: string): string[] {
  const items = (value ?? '').split(/[\s,]+/).filter(Boolean);
  for (const item of items) parseRule(item, variable);
  return items;
}

function parseRule(text: string, variable: string): Rule {
  if (ipaddr.isValidCIDR(text)) return { kind: 'range', range: ipaddr.parseCIDR(text) as Range, text };
  if (ipaddr.isValid(text)) {
    const address = normalise(ipaddr.parse(text));
    return { kind: 'range', range: [address, address.kind() === 'ipv4' ? 32 : 128], text };
  }
  const host = text.toLowerCase();
  if (/^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?$/.test(host)) {
    return host.startsWith('*.') ? { kind: 'host', suffix: host.slice(1), exact: null, text } : { kind: 'host', suffix: null, exact: host, text };
  }
  throw new AppError('validation_failed', `${variable}: ${text} is neither a CIDR, an IP address nor a host pattern (example.com, *.example.com)`, { field: variable });
}

/** IPv4-mapped and NAT64 IPv6 addresses reach IPv4 hosts, so they are judged as the IPv4 address they embed. */
function normalise(address: Address): Address {
  if (address.kind() === 'ipv6') {
    const v6 = address as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) return v6.toIPv4Address();
    if (v6.match(ipaddr.parseCIDR('64:ff9b::/96') as [ipaddr.IPv6, number])) {
      const bytes = v6.toByteArray().slice(12);
      return ipaddr.fromByteArray(bytes);
    }
  }
  return address;
}

function inRange(address: Address, range: Range): boolean {
  return address.kind() === range[0].kind() && address.match(range);
}

function hostMatches(rule: Extract<Rule, { kind: 'host' }>, host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  if (rule.exact !== null) return name === rule.exact.replace(/\.$/, '');
  return name.endsWith(rule.suffix!.replace(/\.$/, ''));
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * Decides which outbound destinations Firebreak may reach. A destination is refused when it is always
 * refused (above), is this server's own listening address, matches FIREBREAK_EGRESS_DENY, or, when
 * FIREBREAK_EGRESS_ALLOW is set, matches none of it. Loopback and private networks are reachable by default:
 * webhooks and Prometheus are often internal; the lists narrow that.
 */
export class EgressPolicy {
  private readonly allow: Rule[];
  private readonly deny: Rule[];
  private readonly own: { addresses: Address[]; port: number }[] = [];

  constructor(rules: EgressRules = {}) {
    this.allow = (rules.allow ?? []).map((r) => parseRule(r, 'FIREBREAK_EGRESS_ALLOW'));
    this.deny = (rules.deny ?? []).map((r) => parseRule(r, 'FIREBREAK_EGRESS_DENY'));
  }

  /** Records the address this server listens on: a request there would call Firebreak itself. */
  addOwnAddress(host: string, port: number): void {
    const literal = stripBrackets(host);
    if (!ipaddr.isValid(literal)) return;
    const address = normalise(ipaddr.parse(literal));
    const unspecified = address.range() === 'unspecified';
    const addresses: Address[] = unspecified ? [ipaddr.parse('127.0.0.1'), ipaddr.parse('::1')] : [address];
    if (unspecified) {
      for (const entries of Object.values(os.networkInterfaces())) {
        for (const entry of entries ?? []) if (ipaddr.isValid(entry.address.split('%')[0]!)) addresses.push(normalise(ipaddr.parse(entry.address.split('%')[0]!)));
      }
    }
    this.own.push({ addresses, port });
  }

  /**
   * Why a destination is refused, or null. `address` is the IP about to be connected to; without it (a URL
   * being saved, before DNS) only what the URL itself shows is judged, and the rest waits for the connection.
   */
  refusal(host: string, address: string | undefined, port: number): string | null {
    const name = stripBrackets(host);
    const literal = ipaddr.isValid(name) ? name : address;
    const ip = literal !== undefined && ipaddr.isValid(literal) ? normalise(ipaddr.parse(literal)) : undefined;
    const shown = ip && ip.toString() !== name ? `${name} (${ip.toString()})` : name;
    if (ip) {
      const fixed = ALWAYS_REFUSED_RANGES.find((r) => inRange(ip, r.range));
      if (fixed) return `${shown} is ${fixed.what}, which Firebreak never connects to`;
      if (this.own.some((o) => o.port === port && o.addresses.some((a) => a.kind() === ip.kind() && a.toString() === ip.toString()))) {
        return `${shown}:${port} is this Firebreak server's own address`;
      }
    }
    const denied = this.deny.find((rule) => (rule.kind === 'host' ? hostMatches(rule, name) : ip !== undefined && inRange(ip, rule.range)));
    if (denied) return `${shown} matches ${denied.text} in FIREBREAK_EGRESS_DENY`;
    if (this.allow.length > 0) {
      const allowed = this.allow.some((rule) => (rule.kind === 'host' ? hostMatches(rule, name) : ip !== undefined && inRange(ip, rule.range)));
      // Before DNS a host name may still resolve into an allowed range; the connection decides then.
      const undecided = ip === undefined && this.allow.some((rule) => rule.kind === 'range');
      if (!allowed && !undecided) return `${shown} is not in FIREBREAK_EGRESS_ALLOW`;
    }
    return null;
  }

  /** Checks a URL as written (when it is saved or validated); throws `egress_denied` naming the field. */
  assertUrl(url: string, field: string): void {
    const reason = this.urlRefusal(url);
    if (reason) throw new AppError('egress_denied', `${field}: ${reason}`, { field });
  }

  /** The refusal of a URL as written, or null (also null for text that is not a URL: schemas judge that). */
  urlRefusal(url: string): string | null {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return null;
    }
    const port = parsed.port ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80;
    return this.refusal(parsed.hostname, undefined, port);
  }

  /** Checks a host and port as written (SMTP servers). */
  assertHost(host: string, port: number, field: string): void {
    const reason = this.refusal(host, undefined, port);
    if (reason) throw new AppError('egress_denied', `${field}: ${reason}`, { field });
  }
}
