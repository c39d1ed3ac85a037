import { API_PREFIX } from '@consilium/protocol';
import type { Deps } from '../deps.js';
import { authOf } from '../http/access.js';
import type { ZodApp } from '../http/route-types.js';
import { ConsiliumError } from '../errors.js';
import { sessionDevice } from '../devices/service.js';
import { acknowledge, relayTyping } from '../delivery/service.js';
import { DeviceSocket } from './socket.js';
import { Heartbeat } from './heartbeat.js';

const heartbeats = new WeakMap<object, Heartbeat>();

/** The heartbeat of a server's sockets (tests run its tick instead of waiting for the timer). */
export function heartbeatOf(app: object): Heartbeat | undefined {
  return heartbeats.get(app);
}

/** One WebSocket per device, authenticated by the session cookie of the upgrade request. */
export async function realtimeRoutes(app: ZodApp, deps: Deps): Promise<void> {
  const allowedOrigin = new URL(deps.config.publicUrl).origin;
  const heartbeat = new Heartbeat(deps, app.log);
  heartbeats.set(app, heartbeat);
  app.addHook('onClose', async () => heartbeat.stop());

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
        { ack: (conversationId, seq) => acknowledge(deps, auth, conversationId, seq), typing: (conversationId) => relayTyping(deps, auth, conversationId) },
        request.log,
      );
      heartbeat.watch(socket, auth.session.id);
      const unsubscribe = deps.fanOut.subscribe(deviceId, (event) => device.deliver(event));
      socket.on('close', unsubscribe);
      // 'ready' (the client's cue to fetch what it missed) only once this node hears every new
      // notice for the device, so nothing can fall between that fetch and the live stream.
      deps.fanOut.settled().then(
        () => device.send({ type: 'ready', deviceId }),
        (err: unknown) => {
          request.log.warn({ err }, 'fan-out subscription not confirmed');
          socket.close(1011, 'try again');
        },
      );
    },
  );
}
