// The console is served by lambdad under /_lambdad/console/ (src/api/console.c);
// the build writes hashed assets into dist/, which tools/genconsole.py embeds.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/_lambdad/console/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    assetsDir: "assets",
    emptyOutDir: true,
    sourcemap: false,
    target: "es2022",
    chunkSizeWarningLimit: 1500,
  },
});
