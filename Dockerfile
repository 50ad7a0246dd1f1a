# logwharf's sidecar image. Build: docker build -t logwharf .
# (The image itself is a later milestone: this file builds from the official Node 20 image,
# which needs a registry; the test suite does not build it.)
FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles its native module when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    LOGWHARF_DATA_DIR=/var/lib/logwharf \
    LOGWHARF_HTTP_LISTEN=0.0.0.0:8080
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY config ./config
VOLUME /var/lib/logwharf
EXPOSE 8080
ENTRYPOINT ["node", "/app/bin/logwharf.js"]
CMD ["run", "--config", "/app/config/logwharf.yaml"]
