#!/usr/bin/env bash
# Installs what Lode needs on a fresh Debian/Ubuntu machine, only if missing.
# Usage: tools/deps.sh server   (LMDB, Lua 5.1 with cjson and bit)
#        tools/deps.sh test     (+ redis, python client and libraries, the Redis clients
#                                 other languages bring as Debian packages, gcc for hiredis)
set -euo pipefail
want=(liblmdb-dev liblua5.1-0-dev lua-cjson-dev lua-bitop-dev)
if [ "${1:-server}" = test ]; then
  want+=(redis-server redis-tools lua5.1 node-redis ruby-redis libredis-perl php-redis lua-redis libhiredis-dev gcc)
fi
missing=()
for p in "${want[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  echo "deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  # The Debian package starts a redis-server on 6379; tests start their own.
  if [[ " ${missing[*]} " == *" redis-server "* ]]; then
    ($SUDO service redis-server stop || $SUDO systemctl stop redis-server || true) >/dev/null 2>&1
  fi
fi
if [ "${1:-server}" = test ]; then
  python3 -c "import redis, pytest, limits, dramatiq, prometheus_client" 2>/dev/null \
    || python3 -m pip install -q redis pytest limits dramatiq prometheus_client
fi
