import {
  AcceptPatientInviteBody,
  API_PREFIX,
  CreatedPatientInvite,
  CreatePatientInviteBody,
  Ok,
  PatientInviteList,
  PatientInvitePreview,
  PatientInviteTokenParams,
} from '@consilium/protocol';
import type { Deps } from '../deps.js';
import { actorOf, authOf, clientOf } from '../http/access.js';
import { errorResponses, type ZodApp } from '../http/route-types.js';
import * as patients from './service.js';

export function patientRoutes(app: ZodApp, deps: Deps): void {
  const base = `${API_PREFIX}/patient-invites`;
  const tags = ['patients'];

  app.post(base, { config: { access: 'member' }, schema: { tags, body: CreatePatientInviteBody, response: { 200: CreatedPatientInvite, ...errorResponses } } }, async (request) =>
    patients.createPatientInvite(deps, authOf(request), actorOf(request), request.body),
  );

  app.get(base, { config: { access: 'member' }, schema: { tags, response: { 200: PatientInviteList, ...errorResponses } } }, async (request) => ({
    invites: await patients.listPatientInvites(deps, authOf(request)),
  }));

  app.get(`${base}/:token`, { config: { access: 'public' }, schema: { tags, params: PatientInviteTokenParams, response: { 200: PatientInvitePreview, ...errorResponses } } }, async (request) =>
    patients.previewPatientInvite(deps, request.params.token),
  );

  app.post(
    `${base}/:token/accept`,
    { config: { access: 'public' }, schema: { tags, params: PatientInviteTokenParams, body: AcceptPatientInviteBody, response: { 200: Ok, ...errorResponses } } },
    async (request) => {
      await patients.acceptPatientInvite(deps, request.params.token, request.body, clientOf(request));
      return { ok: true as const };
    },
  );
}
