/**
 * Tabs of one browser share the session cookie. When one tab signs out, the others drop what they
 * show at once instead of waiting for their next request to fail.
 */
const key = 'consilium.signedOut';

export function announceSignOut(notice: string | null): void {
  try {
    window.localStorage.setItem(key, JSON.stringify({ at: Date.now(), notice }));
  } catch {
    // Without storage the other tabs find out on their next request.
  }
}

export function onSignOutElsewhere(listener: (notice: string | null) => void): () => void {
  const handle = (event: StorageEvent) => {
    if (event.key !== key || !event.newValue) return;
    try {
      const { notice } = JSON.parse(event.newValue) as { notice?: unknown };
      listener(typeof notice === 'string' ? notice : null);
    } catch {
      listener(null);
    }
  };
  window.addEventListener('storage', handle);
  return () => window.removeEventListener('storage', handle);
}
