/**
 * Weekly time windows as configuration writes them: days of the week and `HH:MM-HH:MM`
 * ranges, read at a fixed UTC offset (no time-zone database, so no daylight-saving
 * surprises: a deployment that follows DST changes its offset in configuration).
 *
 * A range is half-open, [start, end). `24:00` is allowed as an end. A range whose end is not
 * after its start crosses midnight and belongs to the day it starts on: `22:00-06:00` on
 * `fri` covers Friday 22:00 to Saturday 06:00. Evaluation lives with the time policy
 * (@mcp-cluster/security).
 */

export const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Day = (typeof DAYS)[number];

const MINUTES_PER_DAY = 24 * 60;

export interface TimeRange {
  /** Minutes after midnight, 0..1439. */
  readonly start: number;
  /** Minutes after midnight, 1..1440; not after start means the range crosses midnight. */
  readonly end: number;
}

function minutes(text: string, allow24: boolean): number | undefined {
  const m = /^(\d{2}):(\d{2})$/.exec(text);
  if (m === null) return undefined;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (min > 59) return undefined;
  if (h === 24 && min === 0 && allow24) return MINUTES_PER_DAY;
  return h > 23 ? undefined : h * 60 + min;
}

/** Parses `HH:MM-HH:MM`; undefined when malformed or empty (start equal to end). */
export function parseTimeRange(text: string): TimeRange | undefined {
  const dash = text.indexOf('-');
  if (dash === -1) return undefined;
  const start = minutes(text.slice(0, dash), false);
  const end = minutes(text.slice(dash + 1), true);
  if (start === undefined || end === undefined || start === end) return undefined;
  return { start, end };
}

/** Parses `Z`, `UTC`, `+HH:MM` or `-HH:MM` (up to ±14:00) into minutes east of UTC. */
export function parseUtcOffset(text: string): number | undefined {
  if (text === 'Z' || text === 'UTC') return 0;
  const m = /^([+-])(\d{2}):(\d{2})$/.exec(text);
  if (m === null) return undefined;
  const value = Number(m[2]) * 60 + Number(m[3]);
  if (Number(m[3]) > 59 || value > 14 * 60) return undefined;
  return m[1] === '-' ? -value : value;
}
