# The gradtrace service: the Python package, which carries the page bundled by
# esbuild (files named by their content's hash, which nginx serves too, built
# from the same lockfile and sources in deploy/nginx/Dockerfile).
FROM node:20-slim AS frontend
WORKDIR /app/frontend
COPY frontend/ ./
RUN npm ci --no-audit --no-fund && npm run build

FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml setup.py MANIFEST.in README.md ./
COPY backend ./backend
# No Node.js here: the package build takes the page built in the first stage (setup.py).
COPY --from=frontend /app/frontend/dist ./frontend/dist
RUN pip install --no-cache-dir . && rm -rf /app/build /app/frontend
# The lessons' SQLite file, unless GRADTRACE_DATABASE_URL names another database.
ENV GRADTRACE_DATA_DIR=/var/lib/gradtrace
RUN mkdir -p /var/lib/gradtrace && chown nobody /var/lib/gradtrace
VOLUME /var/lib/gradtrace
EXPOSE 8000
USER nobody
CMD ["gradtrace", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
