/**
 * Node's own HTTP/1.1 request parser (llhttp, as node:http's server sets it up: strict, 16 KiB of
 * head) as an oracle for the fast paths' differential suite. The parser is driven in-process
 * through `HTTPParser` from node:_http_common, the binding node:http's server itself drives, so a
 * case costs microseconds rather than a socket round trip (100,000 cases in seconds), with the
 * same settings node:http's server passes (default header limit, no lenient flags).
 */

import { maxHeaderSize } from 'node:http';
import { createRequire } from 'node:module';

interface Parser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(buf: Buffer): number | undefined | (Error & { code: string; bytesParsed: number });
  [key: number]: unknown;
}
interface ParserClass {
  new (): Parser;
  readonly REQUEST: number;
  readonly kOnHeaders: number;
  readonly kOnHeadersComplete: number;
  readonly kOnBody: number;
  readonly kOnMessageComplete: number;
  readonly kLenientNone: number;
}
const common = createRequire(import.meta.url)('_http_common') as {
  HTTPParser: ParserClass;
  methods: readonly string[];
};
const { HTTPParser, methods } = common;

/** One request llhttp read the head of. */
export interface OracleMessage {
  readonly method: string;
  readonly url: string;
  /** Names and values as sent (values without surrounding whitespace), alternating. */
  readonly rawHeaders: readonly string[];
  readonly version: string;
  /** An Upgrade or CONNECT: the bytes after its head are not HTTP any more. */
  readonly upgrade: boolean;
  /** llhttp reads the connection as kept open after this request. */
  readonly keepAlive: boolean;
  bodyLength: number;
  complete: boolean;
}

/** What llhttp made of some bytes: the requests it read, and its error code if it refused. */
export interface OracleVerdict {
  readonly messages: readonly OracleMessage[];
  readonly error: string | undefined;
}

function newParser(messages: OracleMessage[]): Parser {
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.REQUEST, {}, maxHeaderSize, HTTPParser.kLenientNone);
  let pending: string[] = [];
  let url = '';
  parser[HTTPParser.kOnHeaders] = (headers: string[], partUrl: string) => {
    pending = pending.concat(headers);
    url += partUrl;
  };
  parser[HTTPParser.kOnHeadersComplete] = (
    major: number,
    minor: number,
    headers: string[] | undefined,
    method: number,
    u: string | undefined,
    _status: unknown,
    _message: unknown,
    upgrade: boolean,
    keepAlive: boolean,
  ) => {
    messages.push({
      method: methods[method] ?? String(method),
      // As node:http's own parserOnHeadersComplete: the flushed parts stand in for what is absent.
      url: u || url,
      rawHeaders: headers ?? pending,
      version: `${major}.${minor}`,
      upgrade,
      keepAlive,
      bodyLength: 0,
      complete: false,
    });
    pending = [];
    url = '';
    return 0;
  };
  parser[HTTPParser.kOnBody] = (b: Buffer) => {
    const m = messages[messages.length - 1];
    if (m) m.bodyLength += b.length;
  };
  parser[HTTPParser.kOnMessageComplete] = () => {
    const m = messages[messages.length - 1];
    if (m) m.complete = true;
    // Trailers arrive as a flush: node:http drops them here, with the parser's leftover url.
    pending = [];
    url = '';
  };
  return parser;
}

/** llhttp's reading of `buf`, as node:http's server would parse it off one connection. */
export function oracle(buf: Buffer): OracleVerdict {
  const messages: OracleMessage[] = [];
  const r = newParser(messages).execute(buf);
  // llhttp pauses after an upgrade's head: what follows belongs to the new protocol, not an error.
  const error =
    r === undefined || typeof r === 'number' || r.code === 'HPE_PAUSED_UPGRADE' ? undefined : r.code;
  return { messages, error };
}

/** How many requests llhttp has read completely after the first `length` bytes of `buf`. */
export function completedAfter(buf: Buffer, length: number): number {
  const messages: OracleMessage[] = [];
  newParser(messages).execute(buf.subarray(0, length));
  return messages.filter((m) => m.complete).length;
}
