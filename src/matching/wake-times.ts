/** Future times, each wanting a pass then; `next` drops the past ones and names the soonest. */
export class WakeTimes {
  private readonly times: number[] = [];

  add(at: number): void {
    let lo = 0;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.times[mid]! < at) lo = mid + 1;
      else hi = mid;
    }
    if (this.times[lo] !== at) this.times.splice(lo, 0, at);
  }

  next(now: number): number | undefined {
    let past = 0;
    while (past < this.times.length && this.times[past]! <= now) past++;
    if (past > 0) this.times.splice(0, past);
    return this.times[0];
  }
}
