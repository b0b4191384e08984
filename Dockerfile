# Pipelock container image: docker build -t pipelock:0.1.0 . (docs/install.md)
# Stage 1 builds (the native re2 module needs a C++ toolchain); stage 2 ships only what runs.
FROM node:20-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY bin ./bin
COPY scripts ./scripts
COPY src ./src
COPY test ./test
COPY bench ./bench
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production PIPELOCK_HOME=/var/lib/pipelock
WORKDIR /opt/pipelock
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/bin ./bin
COPY --from=build /src/dist/src ./dist/src
COPY --from=build /src/dist/run ./dist/run
COPY --from=build /src/oclif.manifest.json ./
COPY LICENSE ./
RUN ln -s /opt/pipelock/bin/run.js /usr/local/bin/pipelock \
 && mkdir -p /var/lib/pipelock /etc/pipelock \
 && chown node:node /var/lib/pipelock
# The image's unprivileged user (uid 1000); Kubernetes runAsNonRoot accepts a numeric USER.
USER 1000:1000
EXPOSE 8888
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["pipelock", "healthcheck", "--addr", "127.0.0.1:8888"]
ENTRYPOINT ["pipelock"]
CMD ["run", "--preset", "balanced", "--listen", "0.0.0.0:8888"]
