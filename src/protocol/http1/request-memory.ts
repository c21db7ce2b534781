/**
 * The bytes of requests a server holds in memory before they are complete — partial heads and
 * bodies over every connection — against one server-wide limit. Without it, 20 connections each
 * sending 60 MiB of a 64 MiB body and stalling took a server from 146 MB to 1.3 GB RSS; with it the
 * connection whose bytes pass the limit is answered 503 FLT_OVERLOADED and closed.
 */
export class RequestMemory {
  /** Bytes held now. */
  held = 0;

  /** @param limitBytes the most bytes held at once (see REQUEST_MEMORY_DEFAULT_BYTES). */
  constructor(readonly limitBytes: number) {}

  /** Counts `n` more bytes; false when that passes the limit (the caller refuses and gives them back). */
  add(n: number): boolean {
    this.held += n;
    return this.held <= this.limitBytes;
  }

  /** Gives back `n` bytes (used, handed on, or dropped with their connection). */
  release(n: number): void {
    this.held -= n;
  }
}

/**
 * The default limit, 512 MiB: eight bodies of the server's default 64 MiB `--max-body` in flight at
 * once, and far above what the gateway's 4 MiB `--max-buffer` bodies need; the process stays near a
 * known RSS however many clients stall mid-request.
 */
export const REQUEST_MEMORY_DEFAULT_BYTES = 512 * 1024 ** 2;
