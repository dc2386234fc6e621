# syntax=docker/dockerfile:1
# notion-rules container. Its steps are mirrored by scripts/image-steps.sh, which the test suite
# runs outside Docker (test/container.test.ts checks that the two say the same).

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

# --- runtime: no compilers, no dev dependencies, not root
FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    NOTION_RULES_STORE=sqlite:/data/notion-rules.db \
    NOTION_RULES_DIR=/app/rules
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /build/dist ./dist
COPY package.json package-lock.json config.yaml ./
COPY schemas ./schemas
COPY rules ./rules
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "dist/cli/health-probe.js"]
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["serve", "--config", "/app/config.yaml"]
