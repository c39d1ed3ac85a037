import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { API_PREFIX, type SessionStage } from '@consilium/protocol';
import type { Config } from '../config.js';
import type { Deps } from '../deps.js';
import { ConsiliumError } from '../errors.js';
import { authenticate, type AuthenticatedSession, type Client } from '../sessions/service.js';
import type { Actor } from '../audit/record.js';

/**
 * Who may call a route. Every /api route must declare one (checked at start-up), so a route
 * cannot be added without an authorisation decision.
 * - public: no session.
 * - session: any live session, whatever its stage (who am I, sign out).
 * - mfa-pending: a session waiting for its second factor.
 * - enrolment: a session allowed to add a second factor (forced setup, or fully signed in).
 * - member: fully signed in.
 * - admin: fully signed in, with the admin role in its organisation.
 * - auditor: fully signed in, admin or security officer (reads the audit log).
 */
export type Access = 'public' | 'session' | 'mfa-pending' | 'enrolment' | 'member' | 'admin' | 'auditor';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    auth: AuthenticatedSession | null;
  }
}

const stagesFor: Record<Exclude<Access, 'public'>, SessionStage[]> = {
  session: ['mfa_required', 'mfa_setup_required', 'active'],
  'mfa-pending': ['mfa_required'],
  enrolment: ['mfa_setup_required', 'active'],
  member: ['active'],
  admin: ['active'],
  auditor: ['active'],
};

export function sessionCookieName(config: Pick<Config, 'cookieSecure'>): string {
  // __Host- binds the cookie to this exact origin, https/secure only, path=/, no Domain.
  return config.cookieSecure ? '__Host-consilium_session' : 'consilium_session';
}

export function setSessionCookie(reply: FastifyReply, config: Config, token: string): void {
  reply.setCookie(sessionCookieName(config), token, {
    httpOnly: true,
    secure: config.cookieSecure,
    sameSite: 'strict',
    path: '/',
  });
}

export function clearSessionCookie(reply: FastifyReply, config: Config): void {
  reply.clearCookie(sessionCookieName(config), { httpOnly: true, secure: config.cookieSecure, sameSite: 'strict', path: '/' });
}

export function clientOf(request: FastifyRequest): Client {
  const ua = request.headers['user-agent'];
  return { ip: request.ip ?? null, userAgent: typeof ua === 'string' ? ua : null };
}

/** Who is acting, for the audit log: the session's account and the request's address. */
export function actorOf(request: FastifyRequest): Actor {
  const { account } = authOf(request);
  return { accountId: account.id, role: account.role, organisationId: account.organisation_id, ip: request.ip ?? null };
}

/** The route's session, which its access level guarantees to be there. */
export function authOf(request: FastifyRequest): AuthenticatedSession {
  if (!request.auth) throw new ConsiliumError('UNAUTHENTICATED', 'sign in first');
  return request.auth;
}

const unsafeMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * What a patient account may reach: their own account and devices, and the conversations they were
 * invited to (reading, writing, leaving). No directory, cases, rosters, organisation or audit.
 */
const PATIENT_ROUTES: readonly RegExp[] = [
  /^(GET|POST|PUT|PATCH|DELETE) \/api\/v1\/(auth|me|devices|keys)(\/|$)/,
  /^POST \/api\/v1\/key-packages\/claim$/,
  /^GET \/api\/v1\/conversations(\/:id)?$/,
  /^(GET|POST) \/api\/v1\/conversations\/:id\/messages$/,
  /^DELETE \/api\/v1\/conversations\/:id\/messages\/:seq$/,
  /^POST \/api\/v1\/conversations\/:id\/ack$/,
  /^GET \/api\/v1\/conversations\/:id\/receipts$/,
  /^POST \/api\/v1\/conversations\/:id\/read$/,
  /^DELETE \/api\/v1\/conversations\/:id\/members\/:accountId$/,
  /^GET \/api\/v1\/welcomes$/,
  /^POST \/api\/v1\/welcomes\/:id\/consumed$/,
  /^GET \/api\/v1\/ws$/,
  /^(GET|POST) \/api\/v1\/attachments(\/|$)/,
];
export const patientMayUse = (method: string, url: string): boolean => PATIENT_ROUTES.some((r) => r.test(`${method} ${url}`));

export function registerAccessControl(app: FastifyInstance, deps: Deps): void {
  const allowedOrigins = new Set([new URL(deps.config.publicUrl).origin]);
  app.decorateRequest('auth', null);

  app.addHook('onRoute', (route) => {
    if (route.url.startsWith(API_PREFIX) && !route.config?.access) {
      throw new Error(`route ${route.method} ${route.url} declares no access level`);
    }
  });

  app.addHook('onRequest', async (request, reply) => {
    // Decide on the matched route, not the raw URL: the router decodes %61pi to api.
    if (!request.routeOptions.url?.startsWith(API_PREFIX)) return;
    // Cookies are SameSite=Strict; checking Origin on writes adds a second CSRF barrier.
    const origin = request.headers.origin;
    if (unsafeMethods.has(request.method) && origin && !allowedOrigins.has(origin)) {
      throw new ConsiliumError('ORIGIN_MISMATCH', 'requests from another origin are refused');
    }
    const access = request.routeOptions.config?.access;
    if (!access || access === 'public') return;
    const token = request.cookies[sessionCookieName(deps.config)];
    if (!token) throw new ConsiliumError('UNAUTHENTICATED', 'sign in first');
    let auth: AuthenticatedSession;
    try {
      auth = await authenticate(deps, token, clientOf(request));
    } catch (err) {
      if (err instanceof ConsiliumError && err.code === 'SESSION_EXPIRED') clearSessionCookie(reply, deps.config);
      throw err;
    }
    const stage = auth.session.stage;
    if (!stagesFor[access].includes(stage)) {
      if (stage === 'mfa_required') throw new ConsiliumError('MFA_REQUIRED', 'enter your second factor first');
      if (stage === 'mfa_setup_required') throw new ConsiliumError('MFA_SETUP_REQUIRED', 'your organisation requires a second factor; set one up first');
      throw new ConsiliumError('CONFLICT', 'this session has already passed its second factor');
    }
    if (access === 'admin' && auth.account.role !== 'admin') throw new ConsiliumError('FORBIDDEN', 'this needs the admin role');
    if (access === 'auditor' && auth.account.role !== 'admin' && auth.account.role !== 'security_officer') {
      throw new ConsiliumError('FORBIDDEN', 'this needs the admin or security officer role');
    }
    if (auth.account.role === 'patient' && !patientMayUse(request.method, request.routeOptions.url)) {
      throw new ConsiliumError('FORBIDDEN', 'patients can use only the conversations they were invited to');
    }
    request.auth = auth;
  });
}
