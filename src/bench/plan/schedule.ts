import type { Random } from '../../core/index.js';

/** How open-loop requests are spaced: evenly, or as a Poisson process (exponential gaps). */
export type Distribution = 'constant' | 'poisson';

/**
 * The intended send times of an open-loop load (perf_analyzer's request-rate schedule): a pure
 * sequence computed from the rate, the distribution and an injected Random, never from when
 * answers arrive. Latency is measured from these times, so a slow server cannot hide its queue
 * behind a generator that waited (no coordinated omission).
 */
export class SendSchedule {
  private index = 0;
  private poissonAt: number;

  /**
   * @param startMs the first request's intended time (ms, on the driver's clock)
   * @param rate requests per second, > 0
   */
  constructor(
    private readonly startMs: number,
    private readonly rate: number,
    private readonly distribution: Distribution,
    private readonly random: Random,
  ) {
    if (!(rate > 0)) throw new RangeError(`rate must be above 0, got ${rate}`);
    this.poissonAt = startMs;
  }

  /** The next intended send time in ms; each call moves one request on. */
  next(): number {
    const i = this.index++;
    if (this.distribution === 'constant') {
      // From the index, not by adding gaps, so rounding cannot accumulate over millions of sends.
      return this.startMs + (i * 1000) / this.rate;
    }
    if (i === 0) return this.poissonAt;
    // Exponential gap by inversion; 1 - u keeps log away from 0.
    this.poissonAt += (-Math.log(1 - this.random.next()) * 1000) / this.rate;
    return this.poissonAt;
  }
}
