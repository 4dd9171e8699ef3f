# actorlog services for docker-compose.yml: one image, the command picks the
# part (ingest, processor, query-api, start).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY sdk/package.json ./sdk/
# Sources come next, so the prepare build waits for `npm run build`.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 DATA_DIR=/var/lib/actorlog
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/sdk/package.json ./sdk/package.json
COPY --from=build /app/sdk/dist ./sdk/dist
RUN mkdir -p /var/lib/actorlog && chown node:node /var/lib/actorlog
USER node
EXPOSE 8080 8081
ENTRYPOINT ["node", "bin/actorlog.js"]
CMD ["start"]
