/** Forgetting the conversation when nobody has spoken for a while: a shared device's privacy between visitors. */
export interface IdleResetOptions {
  /**
   * Forget the conversation (as Agent.forget() does) after this long with nobody speaking and nothing being
   * answered, ms; 0 never does. Default: 0 (off in the library; the CLI's start and serve turn it on at 60 s).
   */
  afterMs: number;
  /**
   * Spoken to each new visitor: before the answer to the first spoken turn with words, after start and after
   * every forget. Not at the onset of their speech (it would talk over them, and in half duplex drown their
   * words), not for a noise. It never enters the history. Default: '' (none).
   */
  greeting: string;
}

export const defaultIdleResetOptions: Readonly<IdleResetOptions> = Object.freeze({
  afterMs: 0,
  greeting: '',
});
