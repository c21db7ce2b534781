import {
  constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type { FlotillaError } from '../../core/index.js';
import { percentEncodeGrpcMessage, truncateDetails } from '../../protocol/oip-grpc/index.js';
import { frame } from './grpc-message.js';

/** Headers that belong to one HTTP/2 hop. */
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host']);

/** The headers of `h` that pass to the next hop (no pseudo-headers, no hop-by-hop ones). */
export function forwardable(h: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) if (k[0] !== ':' && !HOP.has(k) && v !== undefined) out[k] = v;
  return out;
}

/** A trailers-only answer carrying a Flotilla error as a gRPC status. */
export function sendStatus(
  stream: ServerHttp2Stream,
  err: FlotillaError,
  extra: OutgoingHttpHeaders = {},
): void {
  if (stream.destroyed || stream.closed) return;
  if (stream.headersSent) {
    stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    return;
  }
  stream.respond(
    {
      ':status': 200,
      'content-type': 'application/grpc',
      'grpc-status': String(err.grpcStatus),
      'grpc-message': percentEncodeGrpcMessage(truncateDetails(err.message)),
      'flotilla-error-code': err.code,
      ...extra,
    },
    { endStream: true },
  );
}

/** A unary answer the gateway makes itself: one message, then grpc-status 0. */
export function replyMessage(stream: ServerHttp2Stream, protobuf: Uint8Array): void {
  if (stream.destroyed || stream.closed) return;
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(frame(protobuf));
}
