/** One HTTP request to encode once and send many times. */
export interface HttpRequestSpec {
  readonly method: 'GET' | 'POST';
  /** Path and query, starting with `/`. */
  readonly path: string;
  /** `host[:port]` for the Host header. */
  readonly host: string;
  /** Extra headers; a `host` here replaces the URL's (gateways route by Host). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer;
}

/**
 * The exact bytes of an HTTP/1.1 keep-alive request: request line, headers, blank line, body, in
 * one buffer, so sending it is one socket write with nothing left to format per request.
 */
export function encodeHttpRequest(spec: HttpRequestSpec): Buffer {
  const headers = new Map<string, string>([['host', spec.host]]);
  for (const [name, value] of Object.entries(spec.headers ?? {})) headers.set(name.toLowerCase(), value);
  if (spec.body !== undefined || spec.method === 'POST') {
    headers.set('content-length', String(spec.body?.byteLength ?? 0));
  }
  let head = `${spec.method} ${spec.path} HTTP/1.1\r\n`;
  for (const [name, value] of headers) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value))
      throw new RangeError(`header ${name} holds a line break`);
    head += `${name}: ${value}\r\n`;
  }
  head += '\r\n';
  const bytes = Buffer.from(head, 'latin1');
  return spec.body ? Buffer.concat([bytes, spec.body]) : bytes;
}
