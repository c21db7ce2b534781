import { STATUS_CODES } from 'node:http';

let dateSecond = -1;
let dateLine = '';

/** The Date header line, formatted once a second (RFC 9110 §6.6.1 asks origin servers for it). */
function date(now: number): string {
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateLine = `date: ${new Date(second * 1000).toUTCString()}\r\n`;
  }
  return dateLine;
}

/**
 * The bytes of an HTTP/1.1 response head: status line, the given headers, Content-Length, Date
 * and, when the connection ends after it, `connection: close`.
 */
export function responseHead(
  status: number,
  headers: Readonly<Record<string, string | number>> | undefined,
  contentLength: number,
  close: boolean,
  now: number = Date.now(),
): string {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
  if (headers) for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
  head += `content-length: ${contentLength}\r\n${date(now)}`;
  head += close ? 'connection: close\r\n\r\n' : 'keep-alive: timeout=65\r\n\r\n';
  return head;
}
