import { describe, expect, it } from 'vitest';
import { changesBetween, snapshotBefore, type SnapshotRecord } from '../../../src/model/snapshot.js';

const record: SnapshotRecord = {
  current: { seenAt: '2026-11-20T10:00:00.000Z', title: 'Plan', props: { Status: 'Done' } },
  previous: { seenAt: '2026-11-20T09:00:00.000Z', title: 'Plan', props: { Status: 'In review' } },
};

describe('the page before an event', () => {
  it('is the latest snapshot for a newer event, the one before it for the event that recorded it (matched again), none for an older one', () => {
    expect(snapshotBefore(record, '2026-11-20T11:00:00.000Z')).toBe(record.current);
    expect(snapshotBefore(record, '2026-11-20T10:00:00.000Z')).toBe(record.previous);
    expect(snapshotBefore(record, '2026-11-20T09:30:00.000Z')).toBeNull();
    expect(snapshotBefore(undefined, '2026-11-20T11:00:00.000Z')).toBeNull();
  });
});

describe('changes between two snapshots', () => {
  it('lists each property whose value differs, with its value before and after; added and removed ones are null on one side', () => {
    expect(
      changesBetween(
        { Status: 'In review', Tags: ['a', 'b'], Owner: ['Ada'], Old: 1 },
        { Status: 'Done', Tags: ['a', 'b'], Owner: ['Ada', 'Grace'], New: true },
      ),
    ).toEqual({
      Status: { from: 'In review', to: 'Done' },
      Owner: { from: ['Ada'], to: ['Ada', 'Grace'] },
      Old: { from: 1, to: null },
      New: { from: null, to: true },
    });
    expect(changesBetween({ Status: 'Done' }, { Status: 'Done' })).toEqual({});
  });
});
