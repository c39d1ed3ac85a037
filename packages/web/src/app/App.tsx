import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { SignInResult } from '@consilium/protocol';
import { ApiError, lastServerContactAt, onSessionLost } from '../api/client';
import { signOut as endSessionOnServer } from '../api/auth';
import { getMe } from '../api/me';
import { SignInPage } from '../auth/SignInPage';
import { SecondFactorPage } from '../auth/SecondFactorPage';
import { FactorSetupPage } from '../auth/FactorSetupPage';
import { InvitePage } from '../invite/InvitePage';
import { PatientInvitePage } from '../patients/PatientInvitePage';
import { AppShell } from '../shell/AppShell';
import { LoadingScreen } from '../ui/LoadingScreen';
import { describeError } from '../ui/error-text';
import { ActiveSessionContext, type ActiveSession } from './active-session';
import { useIdleLogoff } from './idle-logoff';
import { navigate, useRoute } from './route';
import { signedOut, stateFromMe, type SessionState } from './session-state';
import { forgetSession, mayHaveSession, rememberSession } from './session-hint';
import { announceSignOut, onSignOutElsewhere } from './sign-out-broadcast';

const idleNotice = (seconds: number) => {
  const minutes = Math.max(1, Math.round(seconds / 60));
  return `You were signed out after ${minutes} minute${minutes === 1 ? '' : 's'} of inactivity.`;
};

/** Shown only to someone who was signed in: expired, idle on the server, revoked elsewhere or reset. */
const sessionLostNotice = 'Your session has ended. Please sign in again.';

/**
 * The top of the app: asks the server where this browser stands, and shows sign-in, the second
 * factor, forced setup or the signed-in shell accordingly.
 */
export function App() {
  // Ask the server only if this browser may hold a session; otherwise go straight to sign-in.
  const [askServer] = useState(mayHaveSession);
  const [session, setSession] = useState<SessionState>(askServer ? { kind: 'loading' } : signedOut());
  const route = useRoute();

  const enter = useCallback(async () => {
    setSession(stateFromMe(await getMe()));
  }, []);

  useEffect(() => {
    if (!askServer) return;
    let current = true;
    getMe().then(
      (me) => current && setSession(stateFromMe(me)),
      (error: unknown) => {
        if (!current) return;
        const notSignedIn = error instanceof ApiError && error.status === 401;
        if (notSignedIn) forgetSession();
        setSession(signedOut(notSignedIn ? null : describeError(error)));
      },
    );
    return () => {
      current = false;
    };
  }, [askServer]);

  // Any request that finds the session gone returns the user to sign-in, saying why.
  useEffect(
    () =>
      onSessionLost(() => {
        forgetSession();
        setSession((previous) => (previous.kind === 'loading' || previous.kind === 'signed-out' ? previous : signedOut(sessionLostNotice)));
      }),
    [],
  );
  useEffect(
    () =>
      onSignOutElsewhere((notice) =>
        setSession((previous) => (previous.kind === 'signed-out' ? previous : signedOut(notice ?? 'You signed out in another tab.'))),
      ),
    [],
  );

  /** Ends the session here at once, then tells the server; a failed request changes nothing here. */
  const signOut = useCallback(async (notice: string | null = null, options: { keepRoute?: boolean } = {}) => {
    setSession(signedOut(notice));
    forgetSession();
    announceSignOut(notice);
    if (!options.keepRoute) navigate({ name: 'home' }, { replace: true });
    try {
      await endSessionOnServer();
    } catch {
      // Already ended (idle, expired or revoked): nothing left to end.
    }
  }, []);

  const me = session.kind === 'active' ? session.me : null;
  const touchPending = useRef(false);
  useIdleLogoff({
    timeoutSeconds: me?.idleTimeoutSeconds ?? null,
    onIdle: () => void signOut(idleNotice(me?.idleTimeoutSeconds ?? 0), { keepRoute: true }),
    // The server ends sessions it has not heard from; while the user is active without causing
    // requests (reading), tell it so now and then. Never on a timer: an idle user stays idle.
    onActivity: (at) => {
      if (!me || touchPending.current) return;
      if (at - lastServerContactAt() < Math.min(60_000, (me.idleTimeoutSeconds * 1000) / 4)) return;
      touchPending.current = true;
      getMe()
        .catch(() => undefined)
        .finally(() => {
          touchPending.current = false;
        });
    },
  });

  const activeSession = useMemo<ActiveSession | null>(
    () => (me ? { me, refresh: enter, signOut: () => signOut() } : null),
    [me, enter, signOut],
  );

  const handleSignIn = async (result: SignInResult) => {
    rememberSession();
    // /me would say the same about second factors; for the other stages it also names the organisation.
    if (result.stage === 'mfa_required') setSession({ kind: 'second-factor', methods: result.mfaMethods });
    else await enter();
  };

  const handleInviteAccepted = async (email: string) => {
    const notice = 'Your account is ready. Sign in with your e-mail address and new password.';
    if (session.kind !== 'signed-out' && session.kind !== 'loading') {
      forgetSession();
      await endSessionOnServer().catch(() => undefined);
    }
    setSession(signedOut(notice, email));
    navigate({ name: 'home' }, { replace: true });
  };

  if (route.name === 'invite') return <InvitePage token={route.token} onAccepted={handleInviteAccepted} />;
  if (route.name === 'patient-invite') return <PatientInvitePage token={route.token} onAccepted={handleInviteAccepted} />;

  switch (session.kind) {
    case 'loading':
      return <LoadingScreen />;
    case 'signed-out':
      return <SignInPage notice={session.notice} initialEmail={session.email} onSignedIn={handleSignIn} />;
    case 'second-factor':
      return <SecondFactorPage methods={session.methods} onVerified={enter} onCancel={() => signOut()} />;
    case 'factor-setup':
      return <FactorSetupPage organisationName={session.organisationName} onDone={enter} onCancel={() => signOut()} />;
    case 'active':
      return (
        <ActiveSessionContext.Provider value={activeSession}>
          <AppShell route={route} />
        </ActiveSessionContext.Provider>
      );
  }
}
