// Long synchronous work (tokenizing a 2 MB body, writing a large answer) is cut into slices of
// a few milliseconds with the event loop let in between, so /health and other requests are
// answered meanwhile: Fly's health check gives up after 2 s.

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class TimeSlices {
  private sliceStart = performance.now();

  constructor(private readonly sliceMs = 10) {}

  /** Call between units of work: lets the event loop in once the current slice is used up. */
  async next(): Promise<void> {
    if (performance.now() - this.sliceStart > this.sliceMs) {
      await yieldToEventLoop();
      this.sliceStart = performance.now();
    }
  }
}
