/** whisper.cpp's encoder turns every 20 ms of audio into one frame of context (1500 frames for 30 s). */
const MS_PER_ENCODER_FRAME = 20;
/** Frames are rounded up to this step, so nearby utterance lengths share one encoder graph size. */
const FRAME_STEP = 64;

/**
 * The encoder context (whisper.cpp's `audio_ctx`) that covers `samples` of 16 kHz audio plus `marginMs`, in
 * whole steps of 64 frames, at most `maxFrames` (the model's full window). The encoder's cost grows with this
 * number, and whisper pads every utterance to its 30 s window otherwise: a 4 s question pays for 30 s.
 */
export function fittedAudioContext(samples: number, marginMs: number, maxFrames: number): number {
  const ms = (samples / 16_000) * 1000 + Math.max(0, marginMs);
  const frames = Math.ceil(ms / MS_PER_ENCODER_FRAME / FRAME_STEP) * FRAME_STEP;
  return Math.min(maxFrames, Math.max(FRAME_STEP, frames));
}
