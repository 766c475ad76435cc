import { defineConfig } from 'vite'

// The build goes to web/dist, which the Go binary embeds (web/ui.go).
export default defineConfig({
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    assetsInlineLimit: 0, // CSP: no data: scripts or styles
  },
})
