/**
 * The reliability suite's bounds and sizes: ONE table, so what "held" means is stated in one place
 * and copied into the results file. Figures in comments are the ones issue 19 measured on the code
 * before the hardening; each bound is what a hardened server must do instead.
 */

/** Sizes and limits of one run: `full` (≤ ~5 min) or `short` (CI, ≤ ~60 s once the probes hold). */
export interface RunScale {
  /** Amplification bodies: binary BYTES (MiB), JSON `""` elements (MiB), gRPC empty `bytes_contents`. */
  readonly binaryMiB: number;
  readonly jsonMiB: number;
  readonly grpcElements: number;
  /** Longest wait for one amplification answer before it counts as failed (ms). */
  readonly amplificationTimeoutMs: number;
  /** Slow-header connections per target (serve and gateway) and how long to wait for them to be cut. */
  readonly slowConnections: number;
  readonly slowlorisWaitS: number;
  /** Extra flags for `serve` and `gateway` in the slowloris probe (e.g. a shorter header deadline). */
  readonly slowlorisServeArgs: readonly string[];
  readonly slowlorisGatewayArgs: readonly string[];
  /** Unread answers: how long the client pipelines and the most it sends (MiB). */
  readonly unreadS: number;
  readonly unreadMaxMiB: number;
  /** Partial bodies: connections, each sending `partialSentMiB` of a `partialDeclaredMiB` body. */
  readonly partialConnections: number;
  readonly partialSentMiB: number;
  readonly partialDeclaredMiB: number;
  /** Deep nesting: depth and how many such requests go through `flotilla up`. */
  readonly nestingDepth: number;
  readonly nestingThroughUp: number;
  /** Fuzz: mutated cases (HTTP and gRPC together). */
  readonly fuzzCases: number;
  /** Kill: seconds of load around one SIGKILL and one SIGSTOP/SIGCONT. */
  readonly killLoadS: number;
  /** Soak: seconds of steady mixed traffic. */
  readonly soakS: number;
}

/** The two run sizes. */
export const SCALES: Readonly<Record<'full' | 'short', RunScale>> = {
  full: {
    binaryMiB: 32,
    jsonMiB: 16,
    grpcElements: 4 * 1024 * 1024,
    amplificationTimeoutMs: 30_000,
    slowConnections: 500,
    // A production default header deadline is ≤ 60 s (Node's headersTimeout, nginx's
    // client_header_timeout): wait one minute and a little more.
    slowlorisWaitS: 65,
    slowlorisServeArgs: [],
    slowlorisGatewayArgs: [],
    unreadS: 10,
    unreadMaxMiB: 256,
    partialConnections: 20,
    partialSentMiB: 60,
    partialDeclaredMiB: 64,
    nestingDepth: 100_000,
    nestingThroughUp: 16,
    fuzzCases: 3000,
    killLoadS: 20,
    soakS: 60,
  },
  short: {
    binaryMiB: 8,
    jsonMiB: 4,
    grpcElements: 1024 * 1024,
    amplificationTimeoutMs: 8_000,
    slowConnections: 100,
    slowlorisWaitS: 15,
    // The default header deadline (20 s) is longer than a short run: a 3 s one instead. The code
    // before the hardening has no such flag, so there serve/gateway refuse to start (not held).
    slowlorisServeArgs: ['--header-timeout', '3000'],
    slowlorisGatewayArgs: ['--header-timeout', '3000'],
    unreadS: 3,
    unreadMaxMiB: 128,
    // 12 × 60 MiB = 720 MiB: past the default 512 MiB cap on unfinished requests, so the bound
    // tells a capped server (≈ 512 MB) from one that holds every body (≈ 760 MB).
    partialConnections: 12,
    partialSentMiB: 60,
    partialDeclaredMiB: 64,
    nestingDepth: 100_000,
    nestingThroughUp: 12,
    fuzzCases: 400,
    killLoadS: 6,
    soakS: 10,
  },
};

/** What each probe must stay within: the bounds themselves, the same for both run sizes. */
export const BOUNDS = {
  /** Any process over this RSS is SIGKILLed by the suite (counted as a crash: not held). */
  killAboveRssMb: 2500,
  /** Heap cap of the processes under test, so one request that would exhaust memory crashes early. */
  maxOldSpaceMb: 1024,
  amplification: {
    // Issue 19: binary 32 MiB blocked 23 s and reached 1.8 GB; the target is 4xx in < 50 ms, < 10 MB.
    binary: { answerMs: 50, extraRssMb: 10, healthMs: 100 },
    // JSON must be parsed to be checked: bounded by what JSON.parse of the same body costs in this
    // process (× factor + slack), never by the elements it claims (issue: 23.5 s, +1.1 GB).
    json: { parseFactor: 3, slackMs: 100, extraRssMb: 128 },
    // Issue: 4M entries (8 MiB) 16.7 s, +630 MB, heap-out-of-memory under a 512 MB cap.
    grpc: { answerMs: 250, extraRssMb: 32, healthMs: 100 },
  },
  slowloris: {
    /**
     * The slow connections must be closed by the server within the run's `slowlorisWaitS`, and the
     * normal client answered this fast (2 s: on the 2 shared cores here, 1,000 slow connections
     * dripping bytes alone put the normal client at 0.8–1.4 s before the hardening).
     */
    normalLatencyMs: 2000,
  },
  unread: {
    // Issue: server 1.2 GB, gateway 650–770 MB for 257 MB sent.
    serverRssGrowthMb: 96,
    gatewayRssGrowthMb: 96,
  },
  partial: {
    // Issue: 20 × 60 MiB of 64 MiB: 146 MB → 1.3 GB. The default cap on unfinished requests over
    // all connections (`--max-request-memory`, 512 MiB) plus 128 MB for the rest of the process.
    rssGrowthMb: 640,
    // Pumping the bodies through loopback shares the 2 cores here: 1.2 s measured before.
    normalLatencyMs: 2000,
  },
  nesting: { ejectedReplicas: 0 },
  fuzz: {
    /** An answer slower than this is counted (reported, not a failure). */
    slowAnswerMs: 1000,
  },
  kill: { failed: 0 },
  soak: {
    /**
     * RSS growth over the second half (median of the last quarter − median of the second). 32 MB:
     * a leak of 1 KB per request at the 2,400 req/s seen here would show 70 MB in a full run.
     */
    secondHalfGrowthMb: 32,
  },
  /** The concurrent `/v2/health/live` poller's interval (ms). */
  healthPollMs: 25,
} as const;
