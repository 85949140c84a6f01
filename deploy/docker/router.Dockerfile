# The router: the public API, weighted routing and the admin API. Build from the repository root:
#   docker build -f deploy/docker/router.Dockerfile -t sentiment-serving/router:0.1.0 .
# Multi-stage: TypeScript is compiled in the first stage; the image holds only the compiled code
# and production dependencies, and runs as a non-root user. The weights file and the router's
# settings come from outside (ROUTER_WEIGHTS_FILE, ROUTER_CONFIG_FILE; on Kubernetes ConfigMaps),
# the tokens from the environment (a Secret).

FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY shared shared
COPY services services
COPY router router
COPY launcher launcher
COPY models/tools models/tools
RUN npm run build

FROM node:20-bookworm-slim AS deps
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
# The router never loads a model: onnxruntime-node (the largest dependency) stays out.
RUN npm ci --omit=dev --no-audit --no-fund && rm -rf node_modules/onnxruntime-node node_modules/onnxruntime-common && npm cache clean --force

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production ROUTER_HOST=0.0.0.0 ROUTER_PORT=8080
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
# The gRPC service definition, loaded at start.
COPY shared/grpc/inference.proto shared/grpc/inference.proto
USER 10001:10001
EXPOSE 8080 8081
STOPSIGNAL SIGTERM
# The flags shared/runtime/node-flags.ts gives the router (a test keeps them the same).
CMD ["node", "--max-semi-space-size=64", "--no-page-promotion", "--interrupt-budget=16384", "dist/router/src/server.js"]
