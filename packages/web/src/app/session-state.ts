import type { Me, MfaMethod } from '@consilium/protocol';

/** Where this browser stands with the server; it decides which screen the app shows. */
export type SessionState =
  | { kind: 'loading' }
  | { kind: 'signed-out'; notice: string | null; email: string }
  | { kind: 'second-factor'; methods: MfaMethod[] }
  | { kind: 'factor-setup'; organisationName: string }
  | { kind: 'active'; me: Me };

export const signedOut = (notice: string | null = null, email = ''): SessionState => ({ kind: 'signed-out', notice, email });

/** The second factors /me says the account can use, in the order the server would list them. */
export function methodsOf(me: Me): MfaMethod[] {
  const methods: MfaMethod[] = [];
  if (me.mfa.totp) methods.push('totp');
  if (me.mfa.passkeys > 0) methods.push('passkey');
  if ((me.mfa.totp || me.mfa.passkeys > 0) && me.mfa.recoveryCodesLeft > 0) methods.push('recovery_code');
  return methods;
}

export function stateFromMe(me: Me): SessionState {
  switch (me.stage) {
    case 'active':
      return { kind: 'active', me };
    case 'mfa_required':
      return { kind: 'second-factor', methods: methodsOf(me) };
    case 'mfa_setup_required':
      return { kind: 'factor-setup', organisationName: me.organisation.name };
  }
}
