import { Command } from 'commander';
import { listAudioDevices, type AudioDevice } from '../audio/devices/device-list.js';
import { probeOutputDevice } from '../audio/devices/device-probe.js';
import { devicesAreNamed, unnamedDevicesNote } from '../audio/devices/platform-devices.js';

interface DevicesFlags {
  json?: boolean;
  probe?: boolean;
}

export function devicesCommand(): Command {
  return new Command('devices')
    .description('list microphones and outputs (ALSA cards and, when one runs, the PulseAudio/PipeWire server)')
    .option('--json', 'print the list as JSON')
    .option('--probe', 'also check that the default output opens (in a child process)')
    .action(async (flags: DevicesFlags) => {
      process.exitCode = await listDevices(flags);
    });
}

function row(d: AudioDevice): string {
  const marks = [d.isDefault ? 'default' : '', d.isMonitor ? 'monitor of an output' : '', d.sampleRate ? `${d.sampleRate} Hz` : '']
    .filter(Boolean)
    .join(', ');
  return `  ${d.isDefault ? '*' : ' '} ${d.id.padEnd(28)} ${d.description}${marks ? `  (${marks})` : ''}`;
}

async function listDevices(flags: DevicesFlags): Promise<number> {
  const list = await listAudioDevices();
  const probe = flags.probe ? await probeOutputDevice() : undefined;
  if (flags.json) {
    console.log(JSON.stringify({ ...list, ...(probe ? { defaultOutput: probe } : {}) }, null, 2));
    return 0;
  }
  if (!devicesAreNamed()) {
    console.log(unnamedDevicesNote());
    if (probe) console.log(`default output: ${probe.ok ? 'opens' : `does not open (${probe.reason})`}`);
    return 0;
  }
  console.log('inputs (--input-device):');
  console.log(list.inputs.length ? list.inputs.map(row).join('\n') : '    none found');
  console.log('outputs (--output-device):');
  console.log(list.outputs.length ? list.outputs.map(row).join('\n') : '    none found');
  if (!list.soundServer) console.log('no PulseAudio/PipeWire server answered; only ALSA cards are listed');
  if (probe) console.log(`default output: ${probe.ok ? 'opens' : `does not open (${probe.reason})`}`);
  if (list.inputs.length === 0 && list.outputs.length === 0) {
    console.log('no audio devices: earshot start needs a microphone; use earshot run --input FILE, or --output FILE for replies');
  }
  return 0;
}
