/** What an install run reports, for a progress display. */
export type InstallEvent =
  | { type: 'start'; model: string; file: string; size: number | undefined }
  | { type: 'progress'; model: string; file: string; received: number; total: number | undefined }
  | { type: 'resume'; model: string; file: string; offset: number }
  | { type: 'retry'; model: string; file: string; reason: string; delayMs: number }
  | {
      type: 'verified';
      model: string;
      file: string;
      sha256: string;
      trustedOnFirstUse: boolean;
      /** Set when the file has no upstream digest and was taken on the word of this copy or mirror (--trust-source). */
      trustedSource?: string;
    }
  | { type: 'installed'; model: string; path: string }
  | { type: 'skipped'; model: string; reason: string };

export type InstallEventHandler = (event: InstallEvent) => void;
