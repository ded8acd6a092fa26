import { defineConfig } from 'vite';

// The gateway serves web/dist: index.html (no-cache) and the content-hashed files under
// /assets/ (immutable). `npm run dev` proxies the API to a local `greekwire serve`.
export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    sourcemap: true,
    target: 'es2020',
    chunkSizeWarningLimit: 400,
  },
  server: {
    proxy: {
      '/ws/api/v2': { target: 'ws://127.0.0.1:8080', ws: true },
    },
  },
});
