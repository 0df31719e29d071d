// Tools for a museum kiosk, for `earshot start --tools examples/kiosk/tools.mjs`. Plain JSON schemas and Node's
// own modules only, so the file runs from anywhere. The data sits beside it in kiosk-data.json.
import { appendFile, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';

const data = JSON.parse(await readFile(new URL('./kiosk-data.json', import.meta.url), 'utf8'));
const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
/** Where staff calls are queued, one JSON line each; a staff screen or a script reads it. */
const staffQueue = () => resolve(process.env.KIOSK_STAFF_QUEUE ?? 'staff-queue.jsonl');

function dayName(day) {
  if (day === 'today' || day === 'tomorrow') {
    const d = new Date();
    if (day === 'tomorrow') d.setDate(d.getDate() + 1);
    return DAYS[d.getDay()];
  }
  return day;
}

const openingHours = {
  name: 'opening_hours',
  description: `Opening hours of ${data.museum} on a given day.`,
  parameters: {
    type: 'object',
    properties: { day: { type: 'string', enum: ['today', 'tomorrow', ...DAYS] } },
    required: ['day'],
  },
  handler({ day }) {
    const name = dayName(day);
    const hours = data.hours[name];
    return hours ? { day: name, open: hours.open, close: hours.close } : { day: name, closed: true };
  },
};

const directions = {
  name: 'directions',
  description: `Directions from the kiosk to a place in ${data.museum}.`,
  parameters: {
    type: 'object',
    properties: { place: { type: 'string', enum: Object.keys(data.places) } },
    required: ['place'],
  },
  handler({ place }) {
    return { place, directions: data.places[place] };
  },
};

const callStaff = {
  name: 'call_staff',
  description: 'Ask a member of staff to come to the kiosk, for anything the kiosk cannot help with.',
  parameters: {
    type: 'object',
    properties: { reason: { type: 'string', maxLength: 200 } },
    required: ['reason'],
  },
  async handler({ reason }, { signal }) {
    signal.throwIfAborted();
    const queue = staffQueue();
    await appendFile(queue, JSON.stringify({ at: new Date().toISOString(), reason }) + '\n');
    const position = (await readFile(queue, 'utf8')).trim().split('\n').length;
    // Said at once, while the model goes on with the result.
    return { say: 'I have asked a member of staff to come to you.', result: { queued: true, position } };
  },
};

export default [openingHours, directions, callStaff];
