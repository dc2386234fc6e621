import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/server/logger.js';

describe('log lines', () => {
  it('carry err as an object with type, message and code, whether an Error or a message string was logged', () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        cb();
      },
    });
    const log = createLogger('info', sink);
    log.warn({ err: 'slack: channel_not_found' }, 'a string');
    log.error({ err: Object.assign(new TypeError('bad input'), { code: 'E_BAD' }) }, 'an error');
    log.warn({ err: { message: 'HTTP 503', code: 503 } }, 'an object');
    expect(lines.map((l) => l.err)).toEqual([
      { type: 'Error', message: 'slack: channel_not_found' },
      { type: 'TypeError', message: 'bad input', code: 'E_BAD', stack: expect.stringContaining('TypeError: bad input') },
      { type: 'Error', message: 'HTTP 503', code: '503' },
    ]);
  });
});
