import { API_PREFIX, Ok, PasskeyAuthenticateBody, PasskeyOptions, RecoveryCodeBody, SignInBody, SignInResult, TotpBody } from '@consilium/protocol';
import type { Deps } from '../deps.js';
import { actorOf, authOf, clearSessionCookie, clientOf, setSessionCookie } from '../http/access.js';
import { errorResponses, type ZodApp } from '../http/route-types.js';
import { signOut } from '../sessions/service.js';
import * as auth from './service.js';

export function authRoutes(app: ZodApp, deps: Deps): void {
  const base = `${API_PREFIX}/auth`;

  app.post(
    `${base}/sign-in`,
    { config: { access: 'public' }, schema: { tags: ['auth'], body: SignInBody, response: { 200: SignInResult, ...errorResponses } } },
    async (request, reply) => {
      const { token, result } = await auth.signIn(deps, request.body, clientOf(request));
      setSessionCookie(reply, deps.config, token);
      return result;
    },
  );

  app.post(
    `${base}/sign-out`,
    { config: { access: 'session' }, schema: { tags: ['auth'], response: { 200: Ok, ...errorResponses } } },
    async (request, reply) => {
      await signOut(deps, actorOf(request), authOf(request).session);
      clearSessionCookie(reply, deps.config);
      return { ok: true as const };
    },
  );

  app.post(
    `${base}/mfa/totp`,
    { config: { access: 'mfa-pending' }, schema: { tags: ['auth'], body: TotpBody, response: { 200: Ok, ...errorResponses } } },
    async (request, reply) => {
      setSessionCookie(reply, deps.config, await auth.verifyTotp(deps, authOf(request), clientOf(request), request.body.code));
      return { ok: true as const };
    },
  );

  app.post(
    `${base}/mfa/recovery-code`,
    { config: { access: 'mfa-pending' }, schema: { tags: ['auth'], body: RecoveryCodeBody, response: { 200: Ok, ...errorResponses } } },
    async (request, reply) => {
      setSessionCookie(reply, deps.config, await auth.verifyRecoveryCode(deps, authOf(request), clientOf(request), request.body.code));
      return { ok: true as const };
    },
  );

  app.post(
    `${base}/mfa/passkey/options`,
    { config: { access: 'mfa-pending' }, schema: { tags: ['auth'], response: { 200: PasskeyOptions, ...errorResponses } } },
    async (request) => ({ ...(await auth.passkeyChallenge(deps, authOf(request))) }),
  );

  app.post(
    `${base}/mfa/passkey`,
    { config: { access: 'mfa-pending' }, schema: { tags: ['auth'], body: PasskeyAuthenticateBody, response: { 200: Ok, ...errorResponses } } },
    async (request, reply) => {
      setSessionCookie(reply, deps.config, await auth.verifyPasskey(deps, authOf(request), clientOf(request), request.body));
      return { ok: true as const };
    },
  );
}
