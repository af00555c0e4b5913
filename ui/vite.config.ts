import { defineConfig } from "vitest/config";

// The server (`ariadne serve`) serves dist/ on :8686; `npm run dev` proxies the API to it.
export default defineConfig({
  build: {
    target: "es2022",
    sourcemap: false,
    chunkSizeWarningLimit: 700,
  },
  server: {
    proxy: { "/api": "http://127.0.0.1:8686" },
  },
  test: {
    include: ["tests/**/*.test.ts"],
    environment: "node",
  },
});
