// --idle-exit: calls onIdle once nothing has happened for the idle time. Counts timer ticks
// rather than comparing clocks: after a suspend/resume (or SIGSTOP/SIGCONT) timers fire once,
// late, so a jump in any clock can never look like a long idle time.

export interface IdleTimer {
  /** Something happened: start counting again. */
  touch(): void;
  stop(): void;
}

export function startIdleTimer(idleMs: number, busy: () => boolean, onIdle: () => void): IdleTimer {
  const tickMs = Math.min(1000, Math.max(10, Math.floor(idleMs / 10)));
  const needed = Math.ceil(idleMs / tickMs);
  let ticks = 0;
  const timer = setInterval(() => {
    if (busy()) {
      ticks = 0;
      return;
    }
    if (++ticks >= needed) {
      clearInterval(timer);
      onIdle();
    }
  }, tickMs);
  timer.unref();
  return {
    touch: () => {
      ticks = 0;
    },
    stop: () => clearInterval(timer),
  };
}
