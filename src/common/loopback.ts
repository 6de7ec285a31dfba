import { BlockList, isIP } from 'node:net';

/** 127.0.0.0/8 and ::1; BlockList also matches IPv4-mapped forms (::ffff:127.0.0.1). */
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * Whether a host name is this machine: an IP address in 127.0.0.0/8 or ::1 (IPv4-mapped
 * included), or exactly `localhost`. Decided from the parsed address, never from the text's
 * prefix: `127.attacker.example` or `127.0.0.1.evil.example` are names anyone can register.
 * Accepts a URL's `hostname` (IPv6 in brackets) or a bare address.
 */
export function isLoopbackHost(host: string): boolean {
  const name = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (name.toLowerCase() === 'localhost') return true;
  const family = isIP(name);
  if (family === 0) return false;
  return LOOPBACK.check(name, family === 4 ? 'ipv4' : 'ipv6');
}

/** Whether a URL (or origin) points at this machine; an unparseable one does not. */
export function isLoopbackUrl(url: string): boolean {
  try {
    return isLoopbackHost(new URL(url).hostname);
  } catch {
    return false;
  }
}
