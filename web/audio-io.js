// @ts-check

/**
 * @typedef {{ samples: Float32Array, time: number, peak: number }} CaptureBlock
 * @typedef {{ type: 'started' | 'audible' | 'drained', turn: number, time: number }
 *   | { type: 'cleared', time: number, dropped: number }} PlaybackEvent
 * @typedef {{ time: number, queued: number, played: number, audibleSinceClear: number, lastAudibleAt: number, paused: boolean }} PlaybackStats
 */

/**
 * The page's audio: one AudioContext whose clock times both sides. The microphone (with the browser's echo
 * cancellation, noise suppression and gain control) goes through the capture worklet; replies come out of the
 * playback worklet.
 */
export class AudioIO {
  /**
   * @param {{ capture: (block: CaptureBlock) => void, playback: (event: PlaybackEvent) => void }} handlers
   */
  constructor(handlers) {
    this.handlers = handlers;
    /** @type {AudioContext | undefined} */
    this.context = undefined;
    /** @type {AudioWorkletNode | undefined} */
    this.player = undefined;
    /** @type {MediaStream | undefined} */
    this.microphone = undefined;
    /** @type {((stats: PlaybackStats) => void)[]} */
    this.statsWaiters = [];
  }

  get sampleRate() {
    return this.context?.sampleRate ?? 48000;
  }

  /** False until the browser lets audio run (a click, or a kiosk's autoplay policy). */
  get running() {
    return this.context?.state === 'running';
  }

  /** Audio-clock time now, s. */
  now() {
    return this.context?.currentTime ?? 0;
  }

  /**
   * Sets up the output side, at `sampleRate` when given (the voice's: the browser then converts to the device,
   * and nothing has to be converted per sentence); harmless to call again.
   * @param {number} [sampleRate]
   */
  async startOutput(sampleRate) {
    if (this.context) {
      if (this.context.state === 'suspended') await this.context.resume();
      return;
    }
    const context = makeContext(sampleRate);
    this.context = context;
    await Promise.all([
      context.audioWorklet.addModule(new URL('./capture-worklet.js', import.meta.url)),
      context.audioWorklet.addModule(new URL('./playback-worklet.js', import.meta.url)),
    ]);
    const player = new AudioWorkletNode(context, 'earshot-playback', { numberOfInputs: 0, outputChannelCount: [1] });
    player.port.onmessage = (event) => {
      if (event.data.type === 'stats') {
        for (const w of this.statsWaiters.splice(0)) w(event.data);
        return;
      }
      this.handlers.playback(event.data);
    };
    player.connect(context.destination);
    this.player = player;
    if (context.state === 'suspended') await context.resume().catch(() => undefined);
  }

  /**
   * Opens the microphone; harmless to call again. Rejects when the user or the browser says no.
   * @param {number} [sampleRate] for the output side, when it is not set up yet
   */
  async startMicrophone(sampleRate) {
    await this.startOutput(sampleRate);
    if (this.microphone || !this.context) return;
    const context = this.context;
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
    });
    this.microphone = stream;
    // No outputs: the node is pulled by the graph on its own and never reaches the speaker.
    const capture = new AudioWorkletNode(context, 'earshot-capture', { numberOfInputs: 1, numberOfOutputs: 0 });
    capture.port.onmessage = (event) => this.handlers.capture(event.data);
    context.createMediaStreamSource(stream).connect(capture);
  }

  /**
   * Queues reply audio. It comes at the voice's rate, which is the context's unless the browser refused that
   * rate; then it is converted here.
   * @param {Float32Array} samples
   * @param {number} rate
   * @param {number} turn
   */
  play(samples, rate, turn) {
    const pcm = rate === this.sampleRate ? samples : linearResample(samples, rate, this.sampleRate);
    this.player?.port.postMessage({ type: 'push', turn, samples: pcm }, [pcm.buffer]);
  }

  /** Drops everything queued: silent within one render quantum (about 3 ms). */
  clear() {
    this.player?.port.postMessage({ type: 'clear' });
  }

  pause() {
    this.player?.port.postMessage({ type: 'pause' });
  }

  resume() {
    this.player?.port.postMessage({ type: 'resume' });
  }

  /** @returns {Promise<PlaybackStats | undefined>} */
  stats() {
    if (!this.player) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.statsWaiters.push(resolve);
      this.player?.port.postMessage({ type: 'stats' });
    });
  }
}

/**
 * An AudioContext at `sampleRate`, or at the device's own rate when the browser does not take that one.
 * @param {number} [sampleRate]
 */
function makeContext(sampleRate) {
  try {
    return new AudioContext({ latencyHint: 'interactive', sampleRate });
  } catch {
    return new AudioContext({ latencyHint: 'interactive' });
  }
}

/**
 * @param {Float32Array} input
 * @param {number} from
 * @param {number} to
 */
function linearResample(input, from, to) {
  const out = new Float32Array(Math.round((input.length * to) / from));
  const step = from / to;
  for (let i = 0; i < out.length; i++) {
    const x = i * step;
    const k = Math.floor(x);
    const a = input[k] ?? 0;
    const b = input[k + 1] ?? a;
    out[i] = a + (b - a) * (x - k);
  }
  return out;
}
