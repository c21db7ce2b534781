/**
 * The last `size` entries, oldest first, in a fixed ring: the dashboard's server-side history
 * (a page opened now gets the last minutes at once). Bounded, so an `up` running for weeks holds
 * the same memory as one running for minutes.
 */
export class HistoryRing<T> {
  private readonly items: (T | undefined)[];
  private next = 0;
  private count = 0;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`HistoryRing size ${size}: expected >= 1`);
    this.items = new Array<T | undefined>(size);
  }

  push(item: T): void {
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.size;
    if (this.count < this.size) this.count++;
  }

  /** Every entry, oldest first. */
  list(): T[] {
    const out: T[] = [];
    const start = (this.next - this.count + this.size) % this.size;
    for (let i = 0; i < this.count; i++) out.push(this.items[(start + i) % this.size] as T);
    return out;
  }

  get length(): number {
    return this.count;
  }
}
