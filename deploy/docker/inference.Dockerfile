# The inference service: one process serving one model bundle (MODEL_NAME/MODEL_VERSION from
# /app/models, or MODEL_DIR). Build from the repository root:
#   docker build -f deploy/docker/inference.Dockerfile -t sentiment-serving/inference:0.1.0 .
# Multi-stage: TypeScript is compiled in the first stage; the image holds only the compiled code,
# production dependencies and the bundles, and runs as a non-root user.

FROM node:20-bookworm-slim AS build
WORKDIR /app
# onnxruntime-node's install script would download CUDA libraries; the CPU build ships in the package.
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
# onnxruntime-node ships binaries for every platform; a Linux image needs only its own (-220 MB).
RUN npm ci --omit=dev --no-audit --no-fund \
  && rm -rf node_modules/onnxruntime-node/bin/napi-v*/darwin node_modules/onnxruntime-node/bin/napi-v*/win32 \
  && npm cache clean --force

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8000 MODELS_DIR=/app/models
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
# The gRPC service definition, loaded at start.
COPY shared/grpc/inference.proto shared/grpc/inference.proto
COPY models/sentiment models/sentiment
USER 10001:10001
EXPOSE 8000 8001
# SIGTERM drains: readiness goes false, in-flight requests and queued batches finish.
STOPSIGNAL SIGTERM
CMD ["node", "dist/services/inference/src/server.js"]
