import { randomInt } from 'node:crypto';
import type { BusinessHours } from '@consilium/protocol';

const STEP_MS = 15 * 60 * 1000; // every UTC offset in use is a multiple of 15 minutes

interface Segment {
  start: number;
  end: number;
}

function localHourAndWeekday(t: number, fmt: Intl.DateTimeFormat): { hour: number; weekday: string } {
  const parts = fmt.formatToParts(new Date(t));
  const hour = Number(parts.find((p) => p.type === 'hour')!.value) % 24;
  const weekday = parts.find((p) => p.type === 'weekday')!.value;
  return { hour, weekday };
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** The parts of [start, end) that fall within business hours in the campaign's time zone. */
export function businessSegments(start: Date, end: Date, hours: BusinessHours): Segment[] {
  const fmt = new Intl.DateTimeFormat('en-GB', { timeZone: hours.timeZone, hour: '2-digit', hourCycle: 'h23', weekday: 'short' });
  const segments: Segment[] = [];
  const s = start.getTime();
  const e = end.getTime();
  for (let t = Math.floor(s / STEP_MS) * STEP_MS; t < e; t += STEP_MS) {
    const { hour, weekday } = localHourAndWeekday(t, fmt);
    if (hour < hours.startHour || hour >= hours.endHour) continue;
    if (hours.weekdaysOnly && (weekday === 'Sat' || weekday === 'Sun')) continue;
    const a = Math.max(t, s);
    const b = Math.min(t + STEP_MS, e);
    const last = segments[segments.length - 1];
    if (last && last.end === a) last.end = b;
    else segments.push({ start: a, end: b });
  }
  return segments;
}

/**
 * Send times for `count` recipients, spread uniformly at random over the business-hours part of
 * the window, and the order to give them in: times ascending, recipients shuffled (Fisher-Yates
 * with a CSPRNG), so neither department nor name order predicts who gets the mail first and
 * colleagues do not all receive it in the same minute. Returns null if the window holds no
 * business hours.
 */
export function spreadSendTimes(count: number, start: Date, end: Date, hours: BusinessHours, random: (max: number) => number = randomInt): Date[] | null {
  const segments = businessSegments(start, end, hours);
  const total = segments.reduce((n, s) => n + (s.end - s.start), 0);
  if (total <= 0) return null;
  const offsets: number[] = [];
  for (let i = 0; i < count; i++) offsets.push(Math.floor((random(2 ** 40) / 2 ** 40) * total));
  offsets.sort((a, b) => a - b);
  const times: Date[] = [];
  let seg = 0;
  let before = 0;
  for (const off of offsets) {
    while (off >= before + (segments[seg]!.end - segments[seg]!.start)) {
      before += segments[seg]!.end - segments[seg]!.start;
      seg++;
    }
    times.push(new Date(segments[seg]!.start + (off - before)));
  }
  return times;
}

export function shuffle<T>(items: readonly T[], random: (max: number) => number = randomInt): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = random(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
