import { transform } from 'esbuild';
import { defineConfig } from 'vite';

// embed.js: the custom elements (src/embed) as one ES module in dist/, next
// to the app and to livedash.js, which the Go server serves with CORS (see
// scripts.go). The client is bundled from its source in clients/js.
export default defineConfig({
  resolve: {
    alias: { livedash: decodeURIComponent(new URL('../clients/js/src/index.ts', import.meta.url).pathname) },
  },
  plugins: [
    {
      // Vite keeps the whitespace of an ES library; embed.js is for the wire.
      name: 'minify-embed',
      async generateBundle(_o, bundle) {
        for (const chunk of Object.values(bundle)) {
          if (chunk.type === 'chunk') chunk.code = (await transform(chunk.code, { minify: true, format: 'esm', target: 'es2020' })).code;
        }
      },
    },
  ],
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    copyPublicDir: false,
    minify: false, // the plugin above minifies
    sourcemap: false,
    lib: { entry: 'src/embed/index.ts', formats: ['es'], fileName: () => 'embed.js' },
  },
});
