#!/bin/sh
# Installs the Debian packages drover needs to build, test (and optionally
# benchmark), skipping those already installed. Works as root, else via sudo.
#   scripts/deps.sh          build + test dependencies
#   scripts/deps.sh bench    also haproxy and nginx-light (services left stopped)
#   scripts/deps.sh fuzz     also clang and its sanitizer runtimes
set -eu

# chromium and chromium-driver: the dashboard tests drive it headless
# through WebDriver. libssl-dev: TLS.
# systemd: systemd-socket-activate for the socket activation tests (drover
# links nothing of it); util-linux (unshare, nsenter, taskset) is essential.
pkgs="build-essential libev-dev node-llhttp libyaml-dev libjansson-dev libc-ares-dev libssl-dev openssl libcriterion-dev pkg-config curl strace wrk haproxy dnsmasq-base systemd iproute2 chromium chromium-driver python3"
case "${1:-}" in
bench)
    pkgs="$pkgs nginx-light"
    # Node for the PM2 comparison; a Node already on PATH (NodeSource's
    # nodejs ships its own npm) is kept, since Debian's npm conflicts with it.
    command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs"
    command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm"
    ;;
fuzz) pkgs="$pkgs clang libclang-rt-14-dev" ;;
esac

missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "deps.sh: need root or sudo to install:$missing" >&2
    exit 1
fi

echo "deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# Keep package services (haproxy, nginx) from starting: the benchmark runs
# its own instances with its own configs.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod +x "$policy"
    made_policy=1
fi
status=0
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq --no-install-recommends $missing || status=$?
[ "$made_policy" -eq 1 ] && $SUDO rm -f "$policy"
exit $status
