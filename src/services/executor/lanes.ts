/** A FIFO of ready steps for one service, with how many of its steps are in flight. */
export class Lane {
  private items: number[] = [];
  private head = 0;
  inFlight = 0;

  push(i: number): void {
    this.items.push(i);
  }

  next(): number | undefined {
    if (this.head >= this.items.length) return undefined;
    const i = this.items[this.head++];
    // Drop the consumed front now and then, so a 100,000-step queue does not shift on every take.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return i;
  }
}
