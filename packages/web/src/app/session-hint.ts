/**
 * Whether this browser may hold a session cookie. The cookie is HttpOnly, so scripts cannot see
 * it; without this hint the app would ask /me on every visit and get a 401 (logged by the browser
 * as an error) for everyone who is signed out. It grants nothing: the server still decides.
 */
const key = 'consilium.mayHaveSession';

export function mayHaveSession(): boolean {
  try {
    return window.localStorage.getItem(key) === '1';
  } catch {
    return true; // Without storage, ask the server.
  }
}

export function rememberSession(): void {
  try {
    window.localStorage.setItem(key, '1');
  } catch {
    // Nothing to remember with; the next visit asks the server.
  }
}

export function forgetSession(): void {
  try {
    window.localStorage.removeItem(key);
  } catch {
    // As above.
  }
}
