import { useEffect } from 'react';
import { useActiveSession } from '../app/active-session';

/** The messenger's main area while no conversation is open, with what the user may need to do first. */
export function ConversationPlaceholder() {
  const { me } = useActiveSession();
  const hasSecondFactor = me.mfa.totp || me.mfa.passkeys > 0;

  useEffect(() => {
    document.title = 'Conversations · Consilium';
  }, []);

  return (
    <div className="empty-state empty-state-main">
      <svg className="empty-state-icon" viewBox="0 0 48 48" aria-hidden="true" focusable="false">
        <path d="M8 10h32a4 4 0 0 1 4 4v16a4 4 0 0 1-4 4H20l-9 7v-7H8a4 4 0 0 1-4-4V14a4 4 0 0 1 4-4z" />
      </svg>
      <h2 className="empty-state-title">No conversation open</h2>
      <p className="muted">Secure, end-to-end encrypted conversations with your colleagues will open here.</p>
      {me.account.verificationLevel === 'unverified' && (
        <p className="notice">
          Your account is not verified yet. An administrator of {me.organisation.name} has to confirm your identity before you can be
          added to patient conversations.
        </p>
      )}
      {!hasSecondFactor && (
        <p className="notice">
          Protect your account with two-step verification: <a href="#/profile">set it up in your profile</a>.
        </p>
      )}
      {hasSecondFactor && me.mfa.recoveryCodesLeft <= 2 && (
        <p className="notice">
          You have {me.mfa.recoveryCodesLeft} recovery code{me.mfa.recoveryCodesLeft === 1 ? '' : 's'} left.{' '}
          <a href="#/profile">Generate new ones in your profile</a>.
        </p>
      )}
    </div>
  );
}
