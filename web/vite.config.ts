/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The Go server embeds web/dist (see embed.go); `npm run dev` serves the app
// on :5173 and proxies the API to a server on :8080.
export default defineConfig({
  plugins: [react()],
  // The app's stream is the livedash client (clients/js), built in from its source.
  resolve: { alias: { livedash: decodeURIComponent(new URL('../clients/js/src/index.ts', import.meta.url).pathname) } },
  build: {
    outDir: 'dist',
    emptyOutDir: true, // public/.gitkeep is copied back, so the Go embed always compiles
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      '/api': { target: 'http://localhost:8080', changeOrigin: false },
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
