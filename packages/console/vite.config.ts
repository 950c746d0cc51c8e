import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The console is served by the Parley server under /console/ (see console.routes.ts), so every URL in the build is
 * based there. Assets get content hashes and are cached for good; index.html is never cached.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: '/console/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 700,
  },
  server: {
    // `npm run dev -w @parley/console` against a server started with `npm start`.
    proxy: { '/v1': { target: 'http://127.0.0.1:8080', ws: true } },
  },
});
