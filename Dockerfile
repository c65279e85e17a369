# One image for every role of mcp-cluster: the role is the command.
#
#   podman build --format docker -t mcp-cluster .
#   podman run --rm -p 3000:3000 mcp-cluster serve --pack builtin:conformance
#   podman run --rm -e REDIS_URL=... -e NATS_URL=... mcp-cluster gateway
#   podman run --rm -e REDIS_URL=... -e NATS_URL=... mcp-cluster worker --pack /packs/pack.js
#
# `--format docker` keeps HEALTHCHECK (the OCI image format has no field for it; Docker's
# builder always writes this format).

ARG NODE_IMAGE=docker.io/library/node:22-bookworm-slim

# --- build: the whole workspace, compiled to JavaScript, then the CLI's production closure ---
FROM ${NODE_IMAGE} AS build
WORKDIR /src
# The pnpm the workspace pins (package.json packageManager, e.g. pnpm@10.34.9).
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
RUN npm install -g --no-audit --no-fund "$(node -p 'require("./package.json").packageManager')"
# Every package in the lockfile, into the store: this layer changes only with the lockfile.
RUN pnpm fetch
COPY . .
RUN pnpm install --offline --frozen-lockfile \
 && pnpm build --no-pack
# `pnpm deploy --prod`: the CLI with its production dependencies only, workspace packages
# copied in (injected) with their published files (dist/). pnpm packs apply publishConfig,
# deploy does not: point each injected workspace package's `exports` at its compiled dist/
# as its tarball from `pnpm build` would. Type declarations, source maps and the lockfile are
# not needed to run.
RUN pnpm --config.inject-workspace-packages=true --filter @mcp-cluster/cli deploy --prod --offline /out \
 && node -e ' \
      const fs = require("node:fs"), path = require("node:path"); \
      const store = "/out/node_modules/.pnpm"; \
      for (const dir of fs.readdirSync(store).filter((d) => d.startsWith("@mcp-cluster+"))) { \
        const scope = path.join(store, dir, "node_modules", "@mcp-cluster"); \
        for (const name of fs.readdirSync(scope)) { \
          const file = path.join(scope, name, "package.json"); \
          if (fs.lstatSync(path.dirname(file)).isSymbolicLink()) continue; \
          const m = JSON.parse(fs.readFileSync(file, "utf8")); \
          if (!m.publishConfig?.exports) throw new Error(file + ": no publishConfig.exports"); \
          m.exports = m.publishConfig.exports; \
          fs.writeFileSync(file, JSON.stringify(m, null, 2)); \
        } \
      }' \
 && rm -f /out/pnpm-lock.yaml \
 && find /out \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' -o -name '*.tsbuildinfo' \) -type f -delete \
 && rm -rf /out/node_modules/.pnpm/@types+node@* \
 && find /out -xtype l -delete

# --- runtime: Node and the compiled CLI, nothing else ---
FROM ${NODE_IMAGE}
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="mcp-cluster" \
      org.opencontainers.image.description="A horizontally scaled Model Context Protocol server: serve (embedded node), gateway or worker" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="docker.io/library/node:22-bookworm-slim"
ENV NODE_ENV=production \
    MCP_HOST=0.0.0.0 \
    MCP_PORT=3000
WORKDIR /app
# Owned by root, read-only for the process: it runs as node (uid 1000), writes nothing here.
COPY --from=build /out /app
USER 1000:1000
EXPOSE 3000
# node is PID 1: the CLI handles SIGTERM/SIGINT itself (graceful close, a worker drains first)
# and starts no child processes, so no init is needed to forward signals or reap zombies.
STOPSIGNAL SIGTERM
# Set the port with MCP_PORT (not --port) so this check follows it. No curl in slim: node.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.MCP_PORT}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/bin/mcp-cluster.js"]
CMD ["serve"]
