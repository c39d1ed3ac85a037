import { useEffect, useRef } from 'react';

/** Pointer and keyboard use count as activity; nothing the app does by itself does. */
const activityEvents = ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart'] as const;

/** Shared between tabs, so reading in one tab does not get the session ended by another. */
const sharedKey = 'consilium.lastActivityAt';
const SHARE_EVERY_MS = 5_000;

function readShared(): number {
  try {
    return Number(window.localStorage.getItem(sharedKey)) || 0;
  } catch {
    return 0;
  }
}

function writeShared(at: number): void {
  try {
    window.localStorage.setItem(sharedKey, String(at));
  } catch {
    // Storage can be unavailable (private mode, policy); each tab then times out on its own.
  }
}

interface IdleLogoffOptions {
  /** Seconds without activity before `onIdle`; null switches the watch off. */
  timeoutSeconds: number | null;
  onIdle: () => void;
  /** Called on activity (throttled by the caller as it sees fit). */
  onActivity?: (at: number) => void;
}

/**
 * Automatic logoff (HIPAA 164.312(a)(2)(iii)). Activity only moves a timestamp; one timer checks
 * it when the limit could have passed, so the watch costs nothing while the user works.
 */
export function useIdleLogoff({ timeoutSeconds, onIdle, onActivity }: IdleLogoffOptions): void {
  const onIdleRef = useRef(onIdle);
  const onActivityRef = useRef(onActivity);
  onIdleRef.current = onIdle;
  onActivityRef.current = onActivity;

  useEffect(() => {
    if (timeoutSeconds === null) return;
    const limitMs = timeoutSeconds * 1000;
    let lastLocal = Date.now();
    let lastShared = lastLocal;
    writeShared(lastLocal);
    let timer = 0;

    const check = () => {
      const idleFor = Date.now() - Math.max(lastLocal, readShared());
      if (idleFor >= limitMs) {
        stop();
        onIdleRef.current();
        return;
      }
      timer = window.setTimeout(check, limitMs - idleFor + 200);
    };
    const recordActivity = () => {
      const now = Date.now();
      lastLocal = now;
      if (now - lastShared >= SHARE_EVERY_MS) {
        lastShared = now;
        writeShared(now);
      }
      onActivityRef.current?.(now);
    };
    // Timers in hidden tabs are throttled; look again as soon as the tab is back.
    const recheck = () => {
      if (document.visibilityState !== 'visible') return;
      window.clearTimeout(timer);
      check();
    };
    const stop = () => {
      window.clearTimeout(timer);
      for (const type of activityEvents) window.removeEventListener(type, recordActivity, true);
      document.removeEventListener('visibilitychange', recheck);
    };

    for (const type of activityEvents) window.addEventListener(type, recordActivity, { capture: true, passive: true });
    document.addEventListener('visibilitychange', recheck);
    timer = window.setTimeout(check, limitMs);
    return stop;
  }, [timeoutSeconds]);
}
