/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) stay on their own connection; everything else passes
 * through as the client or replica sent it, in raw `[name, value, …]` arrays (no objects built).
 */

function isHopByHop(name: string): boolean {
  switch (name.length) {
    case 2:
      return name.toLowerCase() === 'te';
    case 6:
      return name.toLowerCase() === 'expect';
    case 7: {
      const l = name.toLowerCase();
      return l === 'upgrade' || l === 'trailer';
    }
    case 10: {
      const l = name.toLowerCase();
      return l === 'connection' || l === 'keep-alive';
    }
    case 16:
      return name.toLowerCase() === 'proxy-connection';
    case 17:
      return name.toLowerCase() === 'transfer-encoding';
    default:
      return false;
  }
}

/** The client's headers to send upstream: raw pairs minus hop-by-hop ones (undici frames the body). */
export function upstreamRequestHeaders(raw: string[]): string[] {
  let i = 0;
  // Most requests carry no hop-by-hop header: then the array is sent as it is, uncopied.
  while (i < raw.length && !isHopByHop(raw[i]!)) i += 2;
  if (i >= raw.length) return raw;
  const out = raw.slice(0, i);
  for (; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (!isHopByHop(name)) out.push(name, raw[i + 1]!);
  }
  return out;
}

/**
 * The replica's headers to send to the client plus the gateway's own: raw pairs minus hop-by-hop
 * ones, except `transfer-encoding`, which tells node:http to frame the body the same way.
 */
export function clientResponseHeaders(raw: readonly Buffer[], extra: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1');
    if (name.length !== 17 && isHopByHop(name)) continue;
    out.push(name, raw[i + 1]!.toString('latin1'));
  }
  for (const x of extra) out.push(x);
  return out;
}

/** The first value of a header in node's header object. */
export function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
