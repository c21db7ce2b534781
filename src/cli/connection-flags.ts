import type { Command } from 'commander';
import { CONNECTION_LIMIT_DEFAULTS } from '../protocol/http1/fallback.js';
import { parseBytes, parsePositiveInt } from './parse-options.js';

/** The client-connection limits `serve` and `gateway` share, parsed from their flags. */
export interface ConnectionFlags {
  readonly headerTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly bodyMinRate: number;
  readonly requestMemoryBytes: number;
}

/** Adds `--header-timeout`, `--body-timeout`, `--body-min-rate` and `--max-request-memory`. */
export function addConnectionFlags(command: Command): Command {
  const d = CONNECTION_LIMIT_DEFAULTS;
  return command
    .option(
      '--header-timeout <ms>',
      'a request head must arrive within this many ms of its first byte; slower: 408 and the connection closed',
      parsePositiveInt,
      d.headerTimeoutMs,
    )
    .option(
      '--body-timeout <ms>',
      'a request body gets this many ms plus 1 s per --body-min-rate bytes received; slower: 408 and the connection closed',
      parsePositiveInt,
      d.bodyTimeoutMs,
    )
    .option(
      '--body-min-rate <bytes>',
      'bytes per second a request body must keep up (see --body-timeout)',
      parsePositiveInt,
      d.bodyMinRate,
    )
    .option(
      '--max-request-memory <bytes>',
      'bytes of unfinished requests (partial heads and bodies) held over all connections, e.g. 512MiB; past it: 503 FLT_OVERLOADED',
      parseBytes,
      d.requestMemoryBytes,
    );
}

/** The parsed values of the flags addConnectionFlags added. */
export function connectionFlags(opts: Record<string, unknown>): ConnectionFlags {
  return {
    headerTimeoutMs: opts['headerTimeout'] as number,
    bodyTimeoutMs: opts['bodyTimeout'] as number,
    bodyMinRate: opts['bodyMinRate'] as number,
    requestMemoryBytes: opts['maxRequestMemory'] as number,
  };
}
