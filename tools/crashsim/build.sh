#!/bin/sh
# Builds the crashsim LD_PRELOAD shim (tools/crashsim/shim.c) into a git-ignored
# build directory and prints the library's path.
#   tools/crashsim/build.sh [OUT]   (default: <repo>/.build-crashsim/crashsim.so)
# Rebuilds only when shim.c is newer than the library.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-"$root/.build-crashsim/crashsim.so"}
mkdir -p "$(dirname "$out")"
if [ ! -f "$out" ] || [ "$here/shim.c" -nt "$out" ]; then
    tmp="$out.tmp.$$"
    ${CC:-cc} -shared -fPIC -O2 -Wall -Wextra -Wno-unused-parameter -Wno-format-truncation -o "$tmp" "$here/shim.c" -ldl -lpthread
    mv "$tmp" "$out"
fi
echo "$out"
