import { describe, expect, it } from 'vitest';
import { dayNumbers, inWindow, parseTimeRange, parseUtcOffset, type TimeWindow } from './time.js';

// 2025-01-06 is a Monday.
const at = (iso: string) => Date.parse(iso);

function window(hours: string, days?: Parameters<typeof dayNumbers>[0]): TimeWindow {
  const range = parseTimeRange(hours);
  if (range === undefined) throw new Error(`bad fixture ${hours}`);
  return { days: dayNumbers(days), range };
}

describe('parseTimeRange / parseUtcOffset', () => {
  it('parses ranges, with 24:00 as an end only', () => {
    expect(parseTimeRange('09:00-17:30')).toEqual({ start: 540, end: 1050 });
    expect(parseTimeRange('00:00-24:00')).toEqual({ start: 0, end: 1440 });
    expect(parseTimeRange('22:00-06:00')).toEqual({ start: 1320, end: 360 });
  });

  it.each(['9:00-17:00', '09:00-', '24:00-01:00', '09:60-10:00', '10:00-10:00', '25:00-01:00', ''])(
    'refuses range %j',
    (text) => {
      expect(parseTimeRange(text)).toBeUndefined();
    },
  );

  it('parses offsets', () => {
    expect(parseUtcOffset('Z')).toBe(0);
    expect(parseUtcOffset('UTC')).toBe(0);
    expect(parseUtcOffset('+05:30')).toBe(330);
    expect(parseUtcOffset('-08:00')).toBe(-480);
    expect(parseUtcOffset('+14:00')).toBe(840);
    for (const bad of ['+15:00', '05:00', '+5:00', '+05:60', 'CET']) {
      expect(parseUtcOffset(bad)).toBeUndefined();
    }
  });
});

describe('inWindow', () => {
  it('is half-open and honours days', () => {
    const w = window('09:00-17:00', ['mon', 'tue', 'wed', 'thu', 'fri']);
    expect(inWindow(w, at('2025-01-06T09:00:00Z'), 0)).toBe(true);
    expect(inWindow(w, at('2025-01-06T16:59:59Z'), 0)).toBe(true);
    expect(inWindow(w, at('2025-01-06T17:00:00Z'), 0)).toBe(false);
    expect(inWindow(w, at('2025-01-06T08:59:59Z'), 0)).toBe(false);
    expect(inWindow(w, at('2025-01-05T12:00:00Z'), 0)).toBe(false); // Sunday
  });

  it('reads the clock at a fixed offset, which can move the day', () => {
    const w = window('09:00-17:00', ['mon']);
    // Monday 08:30 UTC is 09:30 at +01:00 and 03:30 at -05:00.
    expect(inWindow(w, at('2025-01-06T08:30:00Z'), 60)).toBe(true);
    expect(inWindow(w, at('2025-01-06T08:30:00Z'), -300)).toBe(false);
    // Sunday 23:30 UTC is Monday 09:30 at +10:00.
    expect(inWindow(w, at('2025-01-05T23:30:00Z'), 600)).toBe(true);
  });

  it('crosses midnight into the next day, and belongs to the day it starts on', () => {
    const w = window('22:00-06:00', ['fri']);
    expect(inWindow(w, at('2025-01-10T22:00:00Z'), 0)).toBe(true); // Friday evening
    expect(inWindow(w, at('2025-01-11T05:59:00Z'), 0)).toBe(true); // Saturday morning
    expect(inWindow(w, at('2025-01-11T06:00:00Z'), 0)).toBe(false);
    expect(inWindow(w, at('2025-01-11T23:00:00Z'), 0)).toBe(false); // Saturday evening
    expect(inWindow(w, at('2025-01-10T05:00:00Z'), 0)).toBe(false); // Friday morning
    expect(inWindow(w, at('2025-01-10T21:59:00Z'), 0)).toBe(false);
  });

  it('wraps the week: Saturday night runs into Sunday', () => {
    const w = window('23:00-01:00', ['sat']);
    expect(inWindow(w, at('2025-01-12T00:30:00Z'), 0)).toBe(true); // Sunday 00:30
    expect(inWindow(w, at('2025-01-06T00:30:00Z'), 0)).toBe(false); // Monday 00:30
  });

  it('covers the whole day with 00:00-24:00 and every day without days', () => {
    const w = window('00:00-24:00');
    for (let d = 5; d <= 11; d++) {
      expect(inWindow(w, at(`2025-01-${String(d).padStart(2, '0')}T23:59:59Z`), 0)).toBe(true);
      expect(inWindow(w, at(`2025-01-${String(d).padStart(2, '0')}T00:00:00Z`), 0)).toBe(true);
    }
  });
});
