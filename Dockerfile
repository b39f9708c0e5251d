# syntax=docker/dockerfile:1
# Build: install, run the unit tests, compile one binary (sources and sql/ embedded).
FROM oven/bun:1.4 AS build
WORKDIR /app
COPY package.json bun.lock bunfig.toml tsconfig.json ./
RUN bun install --frozen-lockfile
COPY src ./src
COPY sql ./sql
COPY test ./test
RUN bun test test/unit && bun run build

# Run: a small glibc base with only the binary, as a non-root user. No secrets here: pass
# DATABASE_URL and ADMIN_TOKEN at run time (docker run -e …).
FROM gcr.io/distroless/base-debian12:nonroot
COPY --from=build /app/dist/tenant-todo /usr/local/bin/tenant-todo
USER nonroot
ENV PORT=3000 HOST=0.0.0.0 LOG_LEVEL=info
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 CMD ["/usr/local/bin/tenant-todo", "healthcheck"]
# SIGTERM drains: in-flight requests finish, then the pool closes.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/tenant-todo"]
