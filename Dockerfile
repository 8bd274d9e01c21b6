# drover's container image (see README "Running in production"): built on
# Debian 12, run as a non-root user with drover as the entry point. drover
# is PID 1 there and reaps every orphan itself, so no init (tini) is needed.
#   docker build -t drover .
#   docker run -p 8080:8080 drover                       # the demo app of examples/hello
#   docker run -v $PWD/myapp:/app drover run -d /app     # your Procfile and drover.yaml

FROM debian:12 AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential libev-dev node-llhttp libyaml-dev \
        libjansson-dev libc-ares-dev libssl-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY scripts/deps.sh scripts/
COPY lib lib
COPY conf conf
COPY router router
COPY supervisor supervisor
COPY control control
COPY bench/backend.c bench/
# The packages are installed above: the stamp tells make not to run deps.sh
# (which would add the test tools).
RUN mkdir -p build && touch build/.deps-ok && make -j"$(nproc)" build/drover build/backend

FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libev4 libyaml-0-2 libjansson4 libc-ares2 libssl3 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 drover \
 && useradd --system --uid 10001 --gid drover --home-dir /app --shell /usr/sbin/nologin drover
COPY --from=build /src/build/drover /usr/local/bin/drover
# The demo app's web process (examples/hello/Procfile runs `backend`).
COPY --from=build /src/build/backend /usr/local/bin/backend
COPY examples/hello /app
WORKDIR /app
# Numeric, so Kubernetes' runAsNonRoot can check it.
USER 10001:10001
EXPOSE 8080 8081
STOPSIGNAL SIGTERM
ENTRYPOINT ["drover"]
CMD ["run", "-d", "/app"]
