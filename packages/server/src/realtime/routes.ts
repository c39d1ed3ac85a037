import { API_PREFIX } from '@consilium/protocol';
import type { Deps } from '../deps.js';
import { authOf } from '../http/access.js';
import type { ZodApp } from '../http/route-types.js';
import { ConsiliumError } from '../errors.js';
import { sessionDevice } from '../devices/service.js';
import { acknowledge } from '../delivery/service.js';
import { DeviceSocket } from './socket.js';

/** One WebSocket per device, authenticated by the session cookie of the upgrade request. */
export async function realtimeRoutes(app: ZodApp, deps: Deps): Promise<void> {
  const allowedOrigin = new URL(deps.config.publicUrl).origin;

  app.get(
    `${API_PREFIX}/ws`,
    {
      websocket: true,
      config: { access: 'member' },
      schema: { hide: true },
      // Browsers send Origin on WebSocket upgrades and do not apply CORS to them: refuse foreign pages.
      preValidation: async (request) => {
        const origin = request.headers.origin;
        if (origin && origin !== allowedOrigin) throw new ConsiliumError('ORIGIN_MISMATCH', 'WebSocket from another origin refused');
        await sessionDevice(deps, authOf(request));
      },
    },
    (socket, request) => {
      const auth = authOf(request);
      const deviceId = auth.session.device_id!;
      const device = new DeviceSocket(
        socket,
        {
          ack: (conversationId, seq) => acknowledge(deps, auth, conversationId, seq),
          sessionLive: async () => {
            const row = await deps.db.selectFrom('session').select(['ended_at', 'expires_at']).where('id', '=', auth.session.id).executeTakeFirst();
            return Boolean(row && !row.ended_at && row.expires_at > deps.now().toISOString());
          },
        },
        request.log,
      );
      const unsubscribe = deps.fanOut.subscribe(deviceId, (event) => device.deliver(event));
      socket.on('close', unsubscribe);
      device.send({ type: 'ready', deviceId });
    },
  );
}
