# ortos-embed image. Two model stores:
#   --build-arg MODEL_STORE=image   (default) the model is downloaded at a pinned revision,
#                                   checksummed and prepared here, and baked into the image;
#   --build-arg MODEL_STORE=volume  the image has no model: the first boot downloads and
#                                   prepares it into HF_HOME on a volume (see fly.volume.toml).
ARG NODE_IMAGE=docker.io/library/node:26-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# Scripts stay off: onnxruntime-node's would fetch CUDA binaries; the CPU ones are in the package.
# Behind a TLS-inspecting proxy, pass its CA bundle: --secret id=ca,src=/path/to/ca.crt
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca; fi; \
    npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts \
 && find node_modules/onnxruntime-node/bin/napi-v6 -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} + \
 && arch="$(node -p process.arch)" \
 && find node_modules/onnxruntime-node/bin/napi-v6/linux -mindepth 1 -maxdepth 1 ! -name "$arch" -exec rm -rf {} +

FROM build AS model
ARG MODEL_STORE=image
ARG MODEL=intfloat/multilingual-e5-base@d128750597153bb5987e10b1c3493a34e5a4502a
ARG DTYPE=int8
# A reranker to bake in beside the model (e.g. cross-encoder/mmarco-mMiniLMv2-L12-H384-v1);
# none by default. Served when RERANK_MODEL_DIR=/models/rerank is set (fly.toml [env]).
ARG RERANK_MODEL=
# The hub to fetch from; a build elsewhere can point it at a mirror (HF_TOKEN can be passed as a secret env).
ARG HF_ENDPOINT=https://huggingface.co
ENV HF_HOME=/tmp/hf
RUN mkdir -p /models \
 && if [ "$MODEL_STORE" = "image" ]; then \
      node dist/bin/main.js prepare --model "$MODEL" --dtype "$DTYPE" --hf-endpoint "$HF_ENDPOINT" \
        --prepared-dir /models/e5 \
      && if [ -n "$RERANK_MODEL" ]; then \
        node dist/bin/main.js prepare --model "$RERANK_MODEL" --hf-endpoint "$HF_ENDPOINT" --prepared-dir /models/rerank ; fi ; \
    elif [ "$MODEL_STORE" != "volume" ]; then echo "MODEL_STORE must be image or volume" >&2; exit 2; fi

FROM ${NODE_IMAGE}
ARG MODEL_STORE=image
# Where the baked model is; empty for the volume store (then HF_HOME is used).
ARG PREPARED_DIR=/models/e5
ENV NODE_ENV=production \
    PREPARED_DIR=${PREPARED_DIR} \
    HOST=0.0.0.0 \
    PORT=8080 \
    HF_HOME=/data/huggingface
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/bin ./dist/bin
COPY --from=build /app/dist/docs-ui ./dist/docs-ui
COPY --from=model /models /models
COPY docker/entrypoint.sh /usr/local/bin/ortos-entrypoint
# Only the prepared form is kept (the hub download stays in the build stage): half the bytes.
RUN if [ "$MODEL_STORE" = "volume" ]; then rm -rf /models/e5; fi \
 && chmod 0755 /usr/local/bin/ortos-entrypoint
EXPOSE 8080
# Starts as root only to hand a freshly mounted volume to the unprivileged "node" user,
# then runs the service as that user.
ENTRYPOINT ["/usr/local/bin/ortos-entrypoint"]
CMD ["node", "/app/dist/bin/main.js", "serve"]
