import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const here = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));

/** Where `npm run dev` forwards API calls: a server started with `consilium serve`. */
const devApiTarget = process.env.CONSILIUM_DEV_API ?? 'http://localhost:8080';

export default defineConfig({
  root: here('.'),
  plugins: [react()],
  resolve: {
    // The protocol and crypto packages are TypeScript source; bundle them directly rather than
    // their tsc output. Crypto only by folder (merkle, note): its index also re-exports the MLS
    // layer, and the bundler keeps part of ts-mls (about 21 KB) even when nothing uses it.
    alias: [
      { find: '@consilium/protocol', replacement: here('../protocol/src/index.ts') },
      { find: /^@consilium\/crypto\/(merkle|note|mls|attachments)$/, replacement: `${here('../crypto/src')}/$1/index.ts` },
    ],
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The server's CSP allows no inline script: the polyfill would be injected inline.
    modulePreload: { polyfill: false },
    // Keep assets as files so img-src/font-src 'self' need nothing extra.
    assetsInlineLimit: 0,
  },
  server: {
    proxy: {
      // The server refuses writes whose Origin is not its public URL, so present that origin.
      '/api': { target: devApiTarget, changeOrigin: true, headers: { origin: devApiTarget } },
      // Phishing simulation links (landing pages, tracking pixel, teachable moment) are served by the server.
      '/t/': { target: devApiTarget, changeOrigin: true },
    },
  },
});
