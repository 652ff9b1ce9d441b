# syntax=docker/dockerfile:1
# The claudemesh relay: DHT bootstrap node, invite verification, presence roster, blind-relay
# fallback, and /health + /metrics over HTTP. Same code as `claudemesh relay` on a bare machine.
#
#   docker build -t claudemesh-relay .
#   docker run -d -p 49737-49743:49737-49743/udp -p 8080:8080 -v claudemesh-relay:/data claudemesh-relay \
#     --public-host relay.example.com
#
# Anything after the image name is appended to the relay's flags (the last one of a flag wins).
# See docker-compose.yml for the compose version.

# ---- build: install with the lockfile, compile TypeScript, drop dev dependencies --------------
FROM node:20-bookworm-slim AS build
WORKDIR /app

# Dependencies first, so this layer is cached until the lockfile changes. --ignore-scripts skips
# only our own `prepare` (it would compile sources that are not copied yet): no dependency has an
# install script, and the native ones (sodium, udx, rocksdb) ship prebuilds for linux x64/arm64.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

COPY tsconfig.json ./
COPY types ./types
COPY protocol ./protocol
COPY relay ./relay
COPY peer ./peer
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# ---- runtime -------------------------------------------------------------------------------
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app

COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist

# The ledger (ledger.json) and the relay's identity seed (relay.seed) live in /data. Keep the
# volume: a new relay.seed means a new relay key, and every invite link minted so far stops working.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data

# UDP 49737-49743 (--port P uses P..P+6): 49737 the DHT bootstrap node written into invite links,
# 49738-49741 the other four DHT nodes, 49742 the control and blind-relay server, 49743 the pairing
# node. Publish the whole range. 8080/tcp: /health and /metrics.
EXPOSE 49737-49743/udp 8080/tcp

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "require('http').get('http://127.0.0.1:8080/health', (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1)).setTimeout(4000, () => process.exit(1))"]

# Exec form: node is PID 1 and gets SIGTERM from `docker stop`; the relay closes cleanly on it.
ENTRYPOINT ["node", "dist/peer/cli/bin.js", "relay", "--host", "0.0.0.0", "--port", "49737", "--http-port", "8080", "--data", "/data"]
CMD []
