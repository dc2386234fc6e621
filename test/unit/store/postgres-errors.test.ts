import { describe, expect, it } from 'vitest';
import { isUnavailable } from '../../../src/store/postgres/connection.js';

describe('PostgreSQL errors: unavailable (503, try again) or a bug', () => {
  it('takes connection, resource and shutdown states and lost sockets as unavailable', () => {
    for (const code of ['08006', '08001', '53300', '57P01', '57P03', '58030', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT']) {
      expect(isUnavailable(Object.assign(new Error('x'), { code })), code).toBe(true);
    }
    // The driver's own errors have no code.
    expect(isUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isUnavailable(new Error('timeout exceeded when trying to connect'))).toBe(true);
  });

  it('takes a statement the database refuses, or our own mistake, as a bug', () => {
    for (const code of ['42P01', '42601', '23505', '22P02']) {
      expect(isUnavailable(Object.assign(new Error('x'), { code })), code).toBe(false);
    }
    expect(isUnavailable(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe(false);
  });
});
