/**
 * Longest error message sent as a gRPC status message, in characters. Messages quote what the
 * client sent (a model name of 1 MB), and trailers that large are refused by HTTP/2 peers
 * (grpc-js and nghttp2 accept 16–64 KiB of headers), so the client would get no status at all:
 * through the gateway, a 1 MB model name was answered `RST_STREAM` code 6.
 */
export const MAX_DETAILS_CHARS = 1024;

/** A message cut to MAX_DETAILS_CHARS, saying how much was left out. */
export function truncateDetails(message: string): string {
  if (message.length <= MAX_DETAILS_CHARS) return message;
  return `${message.slice(0, MAX_DETAILS_CHARS)}… (${message.length - MAX_DETAILS_CHARS} more characters)`;
}

/**
 * A `grpc-message` value as the gRPC over HTTP/2 spec writes it: the UTF-8 bytes outside
 * 0x20–0x7E, and '%', as `%XX`; everything else as is. (`encodeURIComponent` also encodes ':',
 * '/', ' ' …, which grpc-js decodes with `decodeURI` and so showed `known services%3A mnist`.)
 */
export function percentEncodeGrpcMessage(message: string): string {
  let out = '';
  for (const b of Buffer.from(message, 'utf8')) {
    out +=
      b >= 0x20 && b <= 0x7e && b !== 0x25
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
