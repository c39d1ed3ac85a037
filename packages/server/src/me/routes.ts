import {
  API_PREFIX,
  IdParams,
  Me,
  Ok,
  PasskeyList,
  PasskeyOptions,
  PasskeyRegisterBody,
  Preferences,
  RecoveryCodes,
  SessionList,
  TotpBody,
  TotpSetup,
  UpdatePreferencesBody,
} from '@consilium/protocol';
import type { Deps } from '../deps.js';
import { actorOf, authOf, setSessionCookie } from '../http/access.js';
import { errorResponses, type ZodApp } from '../http/route-types.js';
import { idleLimitSeconds, listSessions, revokeOwnSession } from '../sessions/service.js';
import { toOrganisation } from '../orgs/service.js';
import * as mfa from '../mfa/service.js';
import { getPreferences, updatePreferences } from './preferences.js';

export function meRoutes(app: ZodApp, deps: Deps): void {
  const base = `${API_PREFIX}/me`;

  app.get(
    base,
    { config: { access: 'session' }, schema: { tags: ['me'], response: { 200: Me, ...errorResponses } } },
    async (request) => {
      const { session, account, organisation } = authOf(request);
      const state = await mfa.mfaState(deps, account.id);
      return {
        stage: session.stage,
        account: {
          id: account.id,
          email: account.email,
          displayName: account.display_name,
          role: account.role,
          departmentId: account.department_id,
          verificationLevel: account.verification_level,
        },
        organisation: { id: organisation.id, name: organisation.name, settings: toOrganisation(organisation).settings },
        mfa: state,
        idleTimeoutSeconds: idleLimitSeconds(session, organisation),
      };
    },
  );

  app.get(
    `${base}/preferences`,
    { config: { access: 'member' }, schema: { tags: ['me'], response: { 200: Preferences, ...errorResponses } } },
    async (request) => getPreferences(deps.db, authOf(request).account.id),
  );

  app.patch(
    `${base}/preferences`,
    { config: { access: 'member' }, schema: { tags: ['me'], body: UpdatePreferencesBody, response: { 200: Preferences, ...errorResponses } } },
    async (request) => updatePreferences(deps, authOf(request), actorOf(request), request.body),
  );

  app.get(
    `${base}/sessions`,
    { config: { access: 'member' }, schema: { tags: ['me'], response: { 200: SessionList, ...errorResponses } } },
    async (request) => ({ sessions: await listSessions(deps, authOf(request).session, authOf(request).organisation) }),
  );

  app.delete(
    `${base}/sessions/:id`,
    { config: { access: 'member' }, schema: { tags: ['me'], params: IdParams, response: { 200: Ok, ...errorResponses } } },
    async (request) => {
      await revokeOwnSession(deps, actorOf(request), request.params.id);
      return { ok: true as const };
    },
  );

  app.post(
    `${base}/mfa/totp/setup`,
    { config: { access: 'enrolment' }, schema: { tags: ['me'], response: { 200: TotpSetup, ...errorResponses } } },
    async (request) => mfa.beginTotpSetup(deps, authOf(request)),
  );

  app.post(
    `${base}/mfa/totp/confirm`,
    { config: { access: 'enrolment' }, schema: { tags: ['me'], body: TotpBody, response: { 200: RecoveryCodes, ...errorResponses } } },
    async (request, reply) => {
      const result = await mfa.confirmTotpSetup(deps, authOf(request), actorOf(request), request.body.code);
      if (result.newToken) setSessionCookie(reply, deps.config, result.newToken);
      return { recoveryCodes: result.recoveryCodes };
    },
  );

  app.delete(
    `${base}/mfa/totp`,
    { config: { access: 'member' }, schema: { tags: ['me'], response: { 200: Ok, ...errorResponses } } },
    async (request) => {
      await mfa.removeTotp(deps, authOf(request), actorOf(request));
      return { ok: true as const };
    },
  );

  app.post(
    `${base}/mfa/recovery-codes`,
    { config: { access: 'member' }, schema: { tags: ['me'], response: { 200: RecoveryCodes, ...errorResponses } } },
    async (request) => mfa.regenerateRecoveryCodes(deps, authOf(request), actorOf(request)),
  );

  app.get(
    `${base}/passkeys`,
    { config: { access: 'member' }, schema: { tags: ['me'], response: { 200: PasskeyList, ...errorResponses } } },
    async (request) => ({ passkeys: await mfa.listPasskeys(deps, authOf(request).account.id) }),
  );

  app.post(
    `${base}/passkeys/options`,
    { config: { access: 'enrolment' }, schema: { tags: ['me'], response: { 200: PasskeyOptions, ...errorResponses } } },
    async (request) => ({ ...(await mfa.passkeyRegistrationOptions(deps, authOf(request))) }),
  );

  app.post(
    `${base}/passkeys`,
    { config: { access: 'enrolment' }, schema: { tags: ['me'], body: PasskeyRegisterBody, response: { 200: RecoveryCodes, ...errorResponses } } },
    async (request, reply) => {
      const result = await mfa.registerPasskey(deps, authOf(request), actorOf(request), request.body);
      if (result.newToken) setSessionCookie(reply, deps.config, result.newToken);
      return { recoveryCodes: result.recoveryCodes };
    },
  );

  app.delete(
    `${base}/passkeys/:id`,
    { config: { access: 'member' }, schema: { tags: ['me'], params: IdParams, response: { 200: Ok, ...errorResponses } } },
    async (request) => {
      await mfa.removePasskey(deps, authOf(request), actorOf(request), request.params.id);
      return { ok: true as const };
    },
  );
}
