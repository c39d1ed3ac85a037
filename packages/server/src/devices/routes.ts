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
} from '@consilium/protocol';
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

  app.post(
    `${API_PREFIX}/key-packages/claim`,
    { config: { access: 'member' }, schema: { tags: ['devices'], body: ClaimKeyPackagesBody, response: { 200: ClaimedKeyPackages, ...errorResponses } } },
    async (request) => devices.claimKeyPackages(deps, authOf(request), request.body.accountIds),
  );
}
