import { EventEmitter } from 'node:events';

/** EventEmitter whose event names and payloads are checked by the compiler. One payload object per event. */
export class TypedEmitter<Events extends { [K in keyof Events]: unknown }> {
  private readonly emitter = new EventEmitter();

  constructor() {
    // Many listeners per event are normal for a library object (CLI view, metrics writer, tests).
    this.emitter.setMaxListeners(0);
  }

  on<K extends keyof Events & string>(event: K, listener: (payload: Events[K]) => void): this {
    this.emitter.on(event, listener);
    return this;
  }

  once<K extends keyof Events & string>(event: K, listener: (payload: Events[K]) => void): this {
    this.emitter.once(event, listener);
    return this;
  }

  off<K extends keyof Events & string>(event: K, listener: (payload: Events[K]) => void): this {
    this.emitter.off(event, listener);
    return this;
  }

  protected emit<K extends keyof Events & string>(event: K, payload: Events[K]): void {
    // An 'error' with no listener would throw from EventEmitter and kill the host process: report it instead.
    if (event === 'error' && this.emitter.listenerCount('error') === 0) {
      process.emitWarning(String((payload as { error?: Error }).error?.message ?? payload), 'EarshotWarning');
      return;
    }
    this.emitter.emit(event, payload);
  }

  protected listenerCount<K extends keyof Events & string>(event: K): number {
    return this.emitter.listenerCount(event);
  }
}
