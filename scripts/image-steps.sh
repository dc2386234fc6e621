#!/usr/bin/env bash
# The Dockerfile's steps, outside Docker: build stage, production-deps stage, runtime layout.
# Usage: scripts/image-steps.sh DEST   (DEST/app is then what the image's /app holds)
# test/e2e/container.test.ts runs this and checks that every RUN/COPY of the Dockerfile is here.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:?usage: image-steps.sh DEST}
mkdir -p "$dest/build" "$dest/app"

# --- build
cd "$dest/build"
cp "$src/package.json" "$src/package-lock.json" ./   # COPY package.json package-lock.json ./
npm ci                                               # RUN npm ci
cp "$src/tsconfig.json" "$src/tsconfig.build.json" ./  # COPY tsconfig.json tsconfig.build.json ./
cp -r "$src/src" ./src                               # COPY src ./src
npm run build                                        # RUN npm run build

# --- deps
cd "$dest/app"
cp "$src/package.json" "$src/package-lock.json" ./   # COPY package.json package-lock.json ./
npm ci --omit=dev                                    # RUN npm ci --omit=dev

# --- runtime (DEST/app already holds the deps stage's node_modules)
:                                                    # COPY --from=deps /app/node_modules ./node_modules
cp -r "$dest/build/dist" ./dist                      # COPY --from=build /build/dist ./dist
cp "$src/config.yaml" ./                             # COPY package.json package-lock.json config.yaml ./
cp -r "$src/schemas" ./schemas                       # COPY schemas ./schemas
cp -r "$src/rules" ./rules                           # COPY rules ./rules
cp -r "$src/examples" ./examples                     # COPY examples ./examples
mkdir -p "$dest/data"                                # RUN mkdir -p /data && chown node:node /data
