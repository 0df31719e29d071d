// @ts-check
/**
 * The microphone side of the page's audio graph: cuts the input into blocks of about 20 ms and hands each to the
 * page with the audio-clock time of its first sample and its peak, for the socket and the level meter.
 */
class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.blockFrames = Math.round(sampleRate * 0.02);
    this.block = new Float32Array(this.blockFrames);
    this.filled = 0;
    this.blockStart = 0;
    this.peak = 0;
  }

  /** @param {Float32Array[][]} inputs */
  process(inputs) {
    const channel = inputs[0]?.[0];
    if (!channel) return true;
    for (let i = 0; i < channel.length; i++) {
      if (this.filled === 0) this.blockStart = currentTime + i / sampleRate;
      const v = channel[i];
      this.block[this.filled++] = v;
      const a = v < 0 ? -v : v;
      if (a > this.peak) this.peak = a;
      if (this.filled === this.blockFrames) {
        this.port.postMessage({ samples: this.block, time: this.blockStart, peak: this.peak }, [this.block.buffer]);
        this.block = new Float32Array(this.blockFrames);
        this.filled = 0;
        this.peak = 0;
      }
    }
    return true;
  }
}

registerProcessor('earshot-capture', CaptureProcessor);
