import { it, expect } from 'vitest';
import { startMessagingServer, FrameSocket } from '../test-support/mls-client.js';
it('refused upgrade then stop', async () => {
  const server = await startMessagingServer();
  const r = await FrameSocket.open(server.url, null).catch((e) => e);
  console.log('refused', r.status, JSON.stringify(r.body));
  const t = Date.now();
  const timer = setTimeout(() => console.log('still closing; connections:', (server.app.server as any)._connections), 5000);
  await server.stop();
  clearTimeout(timer);
  console.log('stop took', Date.now() - t);
}, 120_000);
