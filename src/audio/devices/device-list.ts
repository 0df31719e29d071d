import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** One capture or playback device, named so that both arecord (`-D`) and the speaker sink can open it. */
export interface AudioDevice {
  /** ALSA device name: `plughw:CARD,DEV` for a sound card, `pulse:NAME` for a PulseAudio/PipeWire device. */
  id: string;
  /** Human-readable description. */
  description: string;
  kind: 'input' | 'output';
  /** Where it was found: ALSA card list, or the sound server. */
  system: 'alsa' | 'pulse';
  /** The sound server's default device of its kind. */
  isDefault: boolean;
  /** A sink's monitor: hears what is played to that sink (no microphone). */
  isMonitor: boolean;
  /** The device's native rate when the system says (sound-server devices), Hz. */
  sampleRate?: number;
}

export interface DeviceList {
  inputs: AudioDevice[];
  outputs: AudioDevice[];
  /** Whether a PulseAudio (or PipeWire-pulse) server answered. */
  soundServer: boolean;
}

/** How long one listing command may take before it is given up on (a hung sound server must not hang us). */
const COMMAND_TIMEOUT_MS = 3000;

/** Full path of an executable on PATH, or undefined. */
export function findOnPath(command: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Runs a listing command; any failure (missing tool, no server, timeout) is just "no output". */
function output(command: string, args: string[]): Promise<string | undefined> {
  if (!findOnPath(command)) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    execFile(command, args, { timeout: COMMAND_TIMEOUT_MS, encoding: 'utf8' }, (error, stdout) => {
      resolve(error ? undefined : stdout);
    });
  });
}

/** Parses `arecord -l` / `aplay -l` ("card 0: PCH [HDA Intel PCH], device 0: ALC3246 Analog [ALC3246 Analog]"). */
export function parseAlsaCardList(text: string, kind: AudioDevice['kind']): AudioDevice[] {
  const devices: AudioDevice[] = [];
  const line = /^card (\d+): ([^\s]+) \[([^\]]*)\], device (\d+): [^[]*\[([^\]]*)\]/;
  for (const l of text.split('\n')) {
    const m = line.exec(l);
    if (!m) continue;
    // plughw converts rate and format in ALSA, so any rate the caller asks for is accepted.
    devices.push({
      id: `plughw:${m[1]},${m[4]}`,
      description: `${m[3]}: ${m[5]}`,
      kind,
      system: 'alsa',
      isDefault: false,
      isMonitor: false,
    });
  }
  return devices;
}

interface PactlDevice {
  name?: unknown;
  description?: unknown;
  sample_specification?: unknown;
  /** On a source: the sink it monitors ("n/a" or absent for a real input). */
  monitor_source?: unknown;
  properties?: { 'device.class'?: unknown };
}

/** Parses `pactl -f json list sinks|sources`. */
export function parsePactlList(json: string, kind: AudioDevice['kind'], defaultName: string | undefined): AudioDevice[] {
  let items: unknown;
  try {
    items = JSON.parse(json);
  } catch {
    return [];
  }
  if (!Array.isArray(items)) return [];
  return (items as PactlDevice[])
    .filter((d) => typeof d.name === 'string')
    .map((d) => {
      const name = d.name as string;
      const rate = /(\d+)Hz/.exec(String(d.sample_specification ?? ''));
      const monitorOf =
        kind === 'input' &&
        ((typeof d.monitor_source === 'string' && d.monitor_source !== 'n/a' && d.monitor_source !== '') ||
          d.properties?.['device.class'] === 'monitor');
      return {
        // The ALSA pulse plugin (libasound2-plugins) takes the server's device name as its argument.
        id: `pulse:${name}`,
        description: typeof d.description === 'string' ? d.description : name,
        kind,
        system: 'pulse' as const,
        isDefault: name === defaultName,
        isMonitor: monitorOf,
        sampleRate: rate ? Number(rate[1]) : undefined,
      };
    });
}

/**
 * Every input and output the machine offers: ALSA cards (arecord -l / aplay -l) and, when a PulseAudio or
 * PipeWire server answers, its sources and sinks. Never throws: a missing tool or server lists nothing.
 */
export async function listAudioDevices(): Promise<DeviceList> {
  const [arecordL, aplayL, pactlInfo] = await Promise.all([
    output('arecord', ['-l']),
    output('aplay', ['-l']),
    output('pactl', ['-f', 'json', 'info']),
  ]);
  const inputs = arecordL ? parseAlsaCardList(arecordL, 'input') : [];
  const outputs = aplayL ? parseAlsaCardList(aplayL, 'output') : [];
  let soundServer = false;
  if (pactlInfo) {
    soundServer = true;
    let info: { default_sink_name?: string; default_source_name?: string } = {};
    try {
      info = JSON.parse(pactlInfo) as typeof info;
    } catch {
      // an old pactl without JSON output: list without defaults
    }
    const [sinks, sources] = await Promise.all([
      output('pactl', ['-f', 'json', 'list', 'sinks']),
      output('pactl', ['-f', 'json', 'list', 'sources']),
    ]);
    if (sources) inputs.unshift(...parsePactlList(sources, 'input', info.default_source_name));
    if (sinks) outputs.unshift(...parsePactlList(sinks, 'output', info.default_sink_name));
  }
  return { inputs, outputs, soundServer };
}

/**
 * The native rate of a device when the sound server reports it (pulse:NAME); undefined for ALSA names, whose
 * plug layer converts whatever rate is asked.
 */
export async function deviceSampleRate(id: string | undefined, kind: AudioDevice['kind']): Promise<number | undefined> {
  const list = await listAudioDevices();
  const pool = kind === 'input' ? list.inputs : list.outputs;
  const found = id === undefined ? pool.find((d) => d.isDefault) : pool.find((d) => d.id === id);
  return found?.sampleRate;
}
