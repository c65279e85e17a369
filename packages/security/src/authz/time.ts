/**
 * Weekly time windows: days of the week and `HH:MM-HH:MM` ranges, read on a clock at a
 * fixed UTC offset (no time-zone database, so no daylight-saving surprises: a deployment
 * that follows DST changes its offset in configuration).
 *
 * A range is half-open, [start, end). `24:00` is allowed as an end. A range whose end is not
 * after its start crosses midnight and belongs to the day it starts on: `22:00-06:00` on
 * `fri` covers Friday 22:00 to Saturday 06:00.
 */

import { DAYS, type Day, type TimeRange } from '@mcp-cluster/config';

export type { Day, TimeRange } from '@mcp-cluster/config';
/** Parsing is the configuration's (it checks time policies at load time). */
export { DAYS, parseTimeRange, parseUtcOffset } from '@mcp-cluster/config';

export interface TimeWindow {
  /** Day numbers as in Date#getUTCDay (0 = Sunday). */
  readonly days: ReadonlySet<number>;
  readonly range: TimeRange;
}

export function dayNumbers(days: readonly Day[] | undefined): ReadonlySet<number> {
  return new Set(days === undefined ? [0, 1, 2, 3, 4, 5, 6] : days.map((d) => DAYS.indexOf(d)));
}

/** Whether the instant `nowMs`, read at `offsetMinutes` from UTC, falls in `window`. */
export function inWindow(window: TimeWindow, nowMs: number, offsetMinutes: number): boolean {
  const local = new Date(nowMs + offsetMinutes * 60_000);
  const day = local.getUTCDay();
  const minute = local.getUTCHours() * 60 + local.getUTCMinutes();
  const { start, end } = window.range;
  if (start < end) return window.days.has(day) && minute >= start && minute < end;
  // Crosses midnight: the evening part on a listed day, the morning part the day after one.
  const yesterday = (day + 6) % 7;
  return (window.days.has(day) && minute >= start) || (window.days.has(yesterday) && minute < end);
}
