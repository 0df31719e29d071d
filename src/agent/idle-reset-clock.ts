/**
 * The idle reset's clock: it runs while the agent waits with nothing to do (nobody speaking, nothing being
 * answered) and there is a conversation to forget; anything else stops it, and the next wait starts it anew.
 * When it runs out, `expire` forgets the conversation.
 */
export class IdleResetClock {
  private timer: NodeJS.Timeout | undefined;
  /** Something was heard or asked since the last forget: there is a conversation to forget. */
  private heard = false;

  /** @param afterMs how long a wait lasts before the reset; 0 never resets */
  constructor(
    private readonly afterMs: number,
    private readonly expire: () => void,
  ) {}

  /** Speech or a turn: there is a conversation now, and the agent is not waiting. */
  heardSomething(): void {
    this.heard = true;
    this.stop();
  }

  /** The conversation was forgotten: nothing to forget until something is heard again. */
  forgotten(): void {
    this.heard = false;
    this.stop();
  }

  /** The agent's state changed: the clock runs while it waits, and stops otherwise. */
  waiting(waiting: boolean): void {
    if (!waiting || this.afterMs <= 0 || !this.heard) return this.stop();
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.expire();
    }, this.afterMs);
    // A host that is done with the agent need not wait for it.
    this.timer.unref?.();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
