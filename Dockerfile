# syntax=docker/dockerfile:1
# notion-rules container. Its steps are mirrored by scripts/image-steps.sh, which the test suite
# runs outside Docker (test/e2e/container.test.ts checks that the two say the same, then runs the
# result as the image would: non-root, read-only rules mount, hot reload, the store on a volume).

# --- build: compile TypeScript with the dev dependencies
FROM node:22-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- deps: production dependencies only (better-sqlite3 is native, so build tools are needed here)
FROM node:22-bookworm-slim AS deps
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev

# --- runtime: no compilers, no dev dependencies, not root; tini reaps children and forwards signals
FROM node:22-bookworm-slim
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="notion-rules" \
      org.opencontainers.image.description="Webhook automation for Notion: verified ingestion, YAML rules with JSONata conditions, durable actions" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="https://github.com/notion-rules/notion-rules"
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    NOTION_RULES_CONFIG=/app/config.yaml \
    NOTION_RULES_STORE=sqlite:/data/notion-rules.db \
    NOTION_RULES_DIR=/app/rules
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /build/dist ./dist
COPY package.json package-lock.json config.yaml ./
COPY schemas ./schemas
COPY rules ./rules
COPY examples ./examples
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
# /livez on the port of $NOTION_RULES_CONFIG (PORT wins), so a changed server.port is probed right.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "dist/cli/health-probe.js"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/cli/main.js"]
CMD ["serve"]
