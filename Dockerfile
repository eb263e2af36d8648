# inferlog image: the agent (a drop-in for KServe's agent sidecar) and the collector.
#   docker build -t ghcr.io/your-org/inferlog:0.1.0 .
# The entrypoint is the inferlog CLI, so KServe's webhook can pass the agent's flags as args
# when the image is configured as the agent image (see README: Deploying to Kubernetes).
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY scripts ./scripts
COPY src ./src
ENV ONNXRUNTIME_NODE_INSTALL=skip
RUN npm ci && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/package.json ./
# The default spool (and the memory buffer's loss counter) lives under $XDG_STATE_HOME/inferlog:
# /var/lib/inferlog/inferlog/agent-9081 for the agent. deploy/kubernetes/agent-spool-volume.yaml
# mounts a volume here, so what the agent buffered survives a container restart (OOM kill, crash).
ENV XDG_STATE_HOME=/var/lib/inferlog
RUN mkdir -p /var/lib/inferlog && chown node:node /var/lib/inferlog && chmod 700 /var/lib/inferlog
USER node
# KServe's webhook gives the agent container only flags as args (they replace CMD), so the
# entrypoint is `inferlog agent`. Other commands override it: command: [node, /app/bin/inferlog.js].
ENTRYPOINT ["node", "/app/bin/inferlog.js", "agent"]
