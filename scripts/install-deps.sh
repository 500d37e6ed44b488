#!/usr/bin/env bash
# Installs the Debian 12 packages keyuan needs to build, test and demo,
# skipping those already present. Runs apt-get as root or through sudo.
# Set KEYUAN_NO_INSTALL=1 to skip (for machines managed some other way).
set -euo pipefail

PACKAGES=(
    build-essential pkg-config
    libzmq3-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler
    libprotobuf-dev
    liblmdb-dev lmdb-utils libcurl4-openssl-dev libjansson-dev
    libsodium-dev libutf8proc-dev libcmocka-dev
    python3 python3-zmq python3-protobuf tzdata docker-compose
)

if [ "${KEYUAN_NO_INSTALL:-0}" = 1 ]; then
    exit 0
fi

missing=()
for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
            | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "keyuan: installing missing packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
