/**
 * What a Piper voice may declare. sherpa-onnx reads its integer metadata with atoi and exits the whole process
 * when the result is negative (any value past 2^31 wraps there), so values outside these bounds are refused
 * before the native loader sees them. The bounds are wide of every published voice.
 */
export const PIPER_LIMITS = {
  minSampleRate: 8_000,
  maxSampleRate: 48_000,
  /** en_US-libritts_r-medium, the largest published voice, has 904 speakers. */
  maxSpeakers: 10_000,
  /** Piper's symbol tables have 256 entries. */
  maxTokenId: 65_536,
} as const;

/** Integer metadata keys sherpa-onnx reads for a VITS voice, with the largest value earshot accepts for each. */
export const PIPER_INTEGER_METADATA: Readonly<Record<string, number>> = {
  sample_rate: PIPER_LIMITS.maxSampleRate,
  n_speakers: PIPER_LIMITS.maxSpeakers,
  add_blank: 1,
  use_eos_bos: 1,
  jieba: 1,
  has_g2pw: 1,
  speaker_id: PIPER_LIMITS.maxSpeakers,
  version: 1_000,
  blank_id: PIPER_LIMITS.maxTokenId,
  bos_id: PIPER_LIMITS.maxTokenId,
  eos_id: PIPER_LIMITS.maxTokenId,
  pad_id: PIPER_LIMITS.maxTokenId,
};
