// @ts-check
/**
 * The speaker side: a queue of reply audio played sample by sample. `clear` empties it within the current
 * render quantum (an interruption is silent at once, not after what was buffered); `pause` holds it while
 * speech over the reply is checked. It reports, in audio-clock time, when a turn's first sample and first
 * audible sample leave it, and when the queue runs dry.
 */
const AUDIBLE = 0.02; // -34 dBFS: the threshold a listener's recording would call sound

class PlaybackProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    /** @type {{ turn: number, samples: Float32Array }[]} */
    this.queue = [];
    this.offset = 0;
    this.paused = false;
    this.playing = false;
    this.startedTurn = 0;
    this.loudTurn = 0;
    this.played = 0;
    this.audibleSinceClear = 0;
    this.lastAudibleAt = 0;
    this.port.onmessage = (event) => this.command(event.data);
  }

  /** @param {{ type: string, turn?: number, samples?: Float32Array }} m */
  command(m) {
    if (m.type === 'push' && m.samples && m.turn !== undefined) {
      this.queue.push({ turn: m.turn, samples: m.samples });
    } else if (m.type === 'clear') {
      const dropped = this.queuedSamples();
      this.queue = [];
      this.offset = 0;
      this.playing = false;
      this.audibleSinceClear = 0;
      this.port.postMessage({ type: 'cleared', time: currentTime, dropped });
    } else if (m.type === 'pause') {
      this.paused = true;
    } else if (m.type === 'resume') {
      this.paused = false;
    } else if (m.type === 'stats') {
      this.port.postMessage({
        type: 'stats',
        time: currentTime,
        queued: this.queuedSamples(),
        played: this.played,
        audibleSinceClear: this.audibleSinceClear,
        lastAudibleAt: this.lastAudibleAt,
        paused: this.paused,
      });
    }
  }

  queuedSamples() {
    return this.queue.reduce((n, c) => n + c.samples.length, 0) - this.offset;
  }

  /**
   * @param {Float32Array[][]} _inputs
   * @param {Float32Array[][]} outputs
   */
  process(_inputs, outputs) {
    const out = outputs[0][0];
    let i = 0;
    while (!this.paused && i < out.length && this.queue.length > 0) {
      const head = this.queue[0];
      const at = currentTime + i / sampleRate;
      if (head.turn !== this.startedTurn) {
        this.startedTurn = head.turn;
        this.port.postMessage({ type: 'started', turn: head.turn, time: at });
      }
      const n = Math.min(out.length - i, head.samples.length - this.offset);
      for (let k = 0; k < n; k++) {
        const v = head.samples[this.offset + k];
        out[i + k] = v;
        if (v > AUDIBLE || v < -AUDIBLE) {
          this.audibleSinceClear++;
          this.lastAudibleAt = currentTime + (i + k) / sampleRate;
          if (this.loudTurn !== head.turn) {
            this.loudTurn = head.turn;
            this.port.postMessage({ type: 'audible', turn: head.turn, time: this.lastAudibleAt });
          }
        }
      }
      this.playing = true;
      this.played += n;
      i += n;
      this.offset += n;
      if (this.offset === head.samples.length) {
        this.queue.shift();
        this.offset = 0;
      }
    }
    if (this.playing && this.queue.length === 0) {
      this.playing = false;
      this.port.postMessage({ type: 'drained', turn: this.startedTurn, time: currentTime + i / sampleRate });
    }
    for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(out);
    return true;
  }
}

registerProcessor('earshot-playback', PlaybackProcessor);
