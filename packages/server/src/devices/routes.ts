import {
  API_PREFIX,
  AttachDeviceBody,
  ClaimKeyPackagesBody,
  ClaimedKeyPackages,
  Device,
  DeviceChallenge,
  DeviceList,
  IdParams,
  KeyPackageCount,
  Ok,
  RegisterDeviceBody,
  UploadKeyPackagesBody,
  AuditLogInfo,
  ConsistencyProof,
  KeyConsistencyProofQuery,
  KeyLogQuery,
  DeviceKeyEntries,
  InclusionProof,
  KeyInclusionProofQuery,
} from '@consilium/protocol';
import { consistencyProof, inclusionProof, logInfo } from '../audit/service.js';
import { keyLogIdFor } from '../audit/log.js';
import type { Deps } from '../deps.js';
import { actorOf, authOf } from '../http/access.js';
import { errorResponses, type ZodApp } from '../http/route-types.js';
import * as devices from './service.js';

export function deviceRoutes(app: ZodApp, deps: Deps): void {
  const base = `${API_PREFIX}/devices`;

  app.get(base, { config: { access: 'member' }, schema: { tags: ['devices'], response: { 200: DeviceList, ...errorResponses } } }, async (request) => ({
    devices: await devices.listOwnDevices(deps, authOf(request)),
  }));

  app.post(
    base,
    { config: { access: 'member' }, schema: { tags: ['devices'], body: RegisterDeviceBody, response: { 200: Device, ...errorResponses } } },
    async (request) => devices.registerDevice(deps, authOf(request), actorOf(request), request.body),
  );

  app.post(
    `${base}/challenge`,
    { config: { access: 'member' }, schema: { tags: ['devices'], response: { 200: DeviceChallenge, ...errorResponses } } },
    async (request) => ({ challenge: await devices.deviceChallenge(deps, authOf(request)) }),
  );

  app.post(
    `${base}/attach`,
    { config: { access: 'member' }, schema: { tags: ['devices'], body: AttachDeviceBody, response: { 200: Device, ...errorResponses } } },
    async (request) => devices.attachDevice(deps, authOf(request), actorOf(request), request.body),
  );

  app.delete(
    `${base}/:id`,
    { config: { access: 'member' }, schema: { tags: ['devices'], params: IdParams, response: { 200: Ok, ...errorResponses } } },
    async (request) => {
      await devices.revokeDevice(deps, actorOf(request), authOf(request).account.id, request.params.id);
      return { ok: true as const };
    },
  );

  app.post(
    `${base}/current/key-packages`,
    { config: { access: 'member' }, schema: { tags: ['devices'], body: UploadKeyPackagesBody, response: { 200: KeyPackageCount, ...errorResponses } } },
    async (request) => devices.uploadKeyPackages(deps, authOf(request), request.body),
  );

  // Key transparency: the organisation's device-key log, its proofs, and a device's entries.
  const keys = `${API_PREFIX}/keys`;
  // The caller's organisation's key log, or (read-only) that of an organisation it is connected to.
  const keyLog = async (request: Parameters<typeof authOf>[0], organisationId: string | undefined) =>
    keyLogIdFor(await devices.readableKeyLogOrganisation(deps, authOf(request), organisationId));
  app.get(
    `${keys}/log`,
    { config: { access: 'member' }, schema: { tags: ['keys'], querystring: KeyLogQuery, response: { 200: AuditLogInfo, ...errorResponses } } },
    async (request) => logInfo(deps, await keyLog(request, request.query.organisationId)),
  );
  app.get(
    `${keys}/proofs/inclusion`,
    { config: { access: 'member' }, schema: { tags: ['keys'], querystring: KeyInclusionProofQuery, response: { 200: InclusionProof, ...errorResponses } } },
    async (request) => inclusionProof(deps, await keyLog(request, request.query.organisationId), request.query.index, request.query.size),
  );
  app.get(
    `${keys}/proofs/consistency`,
    { config: { access: 'member' }, schema: { tags: ['keys'], querystring: KeyConsistencyProofQuery, response: { 200: ConsistencyProof, ...errorResponses } } },
    async (request) => consistencyProof(deps, await keyLog(request, request.query.organisationId), request.query.from, request.query.to),
  );
  app.get(
    `${keys}/devices/:id`,
    { config: { access: 'member' }, schema: { tags: ['keys'], params: IdParams, response: { 200: DeviceKeyEntries, ...errorResponses } } },
    async (request) => devices.deviceKeyEntries(deps, authOf(request), request.params.id),
  );

  app.post(
    `${API_PREFIX}/key-packages/claim`,
    { config: { access: 'member' }, schema: { tags: ['devices'], body: ClaimKeyPackagesBody, response: { 200: ClaimedKeyPackages, ...errorResponses } } },
    async (request) => devices.claimKeyPackages(deps, authOf(request), request.body.accountIds, request.body.deviceIds),
  );
}
