import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { compileToolSchema } from '../../../src/tools/tool-schema.js';

describe('compileToolSchema', () => {
  it('turns a zod schema into a grammar schema and checks arguments with zod itself', () => {
    const s = compileToolSchema(
      z.object({ day: z.enum(['monday', 'sunday']), note: z.string().regex(/^[a-z]+$/).optional(), count: z.number().int().min(1) }),
    );
    expect(s.grammar).toEqual({
      type: 'object',
      properties: { day: { enum: ['monday', 'sunday'] }, note: { type: 'string' }, count: { type: 'integer' } },
      required: ['day', 'count'],
    });
    expect(s.validate({ day: 'sunday', count: 2 })).toEqual({ ok: true, value: { day: 'sunday', count: 2 } });
    // What a grammar cannot enforce (a pattern, a minimum) is still checked.
    const bad = s.validate({ day: 'sunday', note: 'Hi!', count: 0 });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.reason).toMatch(/^note: .*; count: .*/);
  });

  it('takes a JSON schema, keeps what a grammar can enforce, and validates the rest', () => {
    const s = compileToolSchema({
      type: 'object',
      properties: {
        place: { type: 'string', enum: ['cafe', 'exit'], description: 'where to' },
        code: { type: 'string', pattern: '^[0-9]{4}$', minLength: 4, maxLength: 4 },
        when: { type: ['string', 'null'] },
        tags: { type: 'array', items: { type: 'string' }, maxItems: 3 },
      },
      required: ['place'],
    });
    expect(s.grammar).toEqual({
      type: 'object',
      properties: {
        place: { description: 'where to', enum: ['cafe', 'exit'] },
        code: { type: 'string', minLength: 4, maxLength: 4 },
        when: { type: ['string', 'null'] },
        tags: { type: 'array', items: { type: 'string' }, maxItems: 3 },
      },
      required: ['place'],
    });
    expect(s.validate({ place: 'cafe', code: '1234' }).ok).toBe(true);
    expect(s.validate({ place: 'cafe', code: 'abcd' }).ok).toBe(false);
    expect(s.validate({ code: '1234' }).ok).toBe(false);
  });

  it('refuses parameters that are not an object schema', () => {
    expect(() => compileToolSchema({ type: 'string' })).toThrow('must describe an object');
    expect(() => compileToolSchema(z.string())).toThrow('must describe an object');
  });
});
