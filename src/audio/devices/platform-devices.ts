import { EarshotError } from '../../errors.js';

/**
 * Named devices are ALSA's (and the sound server's, through ALSA's pulse plugin), so they exist on Linux only.
 * Elsewhere the microphone is recorded with sox, which takes the system's own device name (AUDIODEV), and
 * replies play through the `speaker` package on the default output (CoreAudio on macOS), which it cannot point
 * at another device.
 */
export function devicesAreNamed(platform: NodeJS.Platform = process.platform): boolean {
  return platform === 'linux';
}

/** --output-device where it would be ignored is one line saying what happens instead, before anything opens. */
export function checkOutputDeviceFlag(device: string | undefined, platform: NodeJS.Platform = process.platform): void {
  if (device === undefined || devicesAreNamed(platform)) return;
  throw new EarshotError(
    'BAD_OPTION',
    `--output-device names ALSA devices, which exist only on Linux; here replies play on the system's default output: choose it in the sound settings, or use --output FILE`,
  );
}

/** The line `earshot devices` prints where it cannot list anything. */
export function unnamedDevicesNote(platform: NodeJS.Platform = process.platform): string {
  const where = platform === 'darwin' ? 'on macOS' : `on ${platform}`;
  return (
    `earshot lists devices through ALSA and PulseAudio/PipeWire (Linux); ${where} it records the default microphone with sox ` +
    `(--input-device takes sox's device name) and speaks on the default output`
  );
}
