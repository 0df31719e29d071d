/** A block of captured audio: mono 16-bit samples at the rate the device gave. */
export interface CapturedBlock {
  samples: Int16Array;
  sampleRate: number;
  /** performance.now() when the block arrived. */
  at: number;
}

/** Events of a live audio source (a microphone). */
export interface AudioSourceEvents {
  data: CapturedBlock;
  /** Capture stopped unexpectedly (device unplugged, sound server gone); a retry follows after `retryInMs`. */
  lost: { reason: string; retryInMs: number };
  /** Capture works again after a loss. */
  restored: { downMs: number };
  error: { error: Error };
}

/** Where live audio comes from. Feed its 'data' to agent.pushAudio(block.samples, block.sampleRate). */
export interface AudioSource {
  readonly sampleRate: number;
  /** Resolves once audio flows; rejects with EarshotError NO_DEVICE when there is no usable input. */
  start(): Promise<void>;
  /** Stops capture and waits until no child process is left. */
  stop(): Promise<void>;
}
