#!/usr/bin/env bash
# Runs the module's own suites (npm test: unit, e2e, databases) on TypeORM 0.3, the line Nest 11
# shops use, in a throw-away copy of the git-tracked files: the lock file's dependencies, then
# typeorm overridden to 0.3.x with the Nest 11 packages a Nest 11 shop has (TYPEORM03_NEST=12
# keeps the lock file's Nest 12, whose @nestjs/typeorm accepts 0.3 too). The checkout itself
# is not touched.
# Usage: tools/test-typeorm03.sh [jest args ...]   (default: npm test; either way it type-checks
# and builds first)
# TYPEORM03_KEEP=1 keeps the copy for a look after a failure. TYPEORM03_REUSE_MODULES=1 copies
# the checkout's node_modules (installed from the lock file: npm ci) instead of running npm ci
# again, which spares compiling better-sqlite3 a second time (minutes where no prebuilt binary
# can be fetched).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
if [ -n "${TYPEORM03_KEEP:-}" ]; then
  echo "typeorm 0.3: copy under $work"
else
  trap 'rm -rf "$work"' EXIT
fi
export JOBS="${JOBS:-max}"

cd "$repo"
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$work"
cd "$work"
if [ -n "${TYPEORM03_REUSE_MODULES:-}" ]; then
  cp -a "$repo/node_modules" node_modules
else
  npm ci --no-audit --no-fund
fi
packages=("typeorm@${TYPEORM03_VERSION:-^0.3.26}")
if [ "${TYPEORM03_NEST:-11}" = 11 ]; then
  packages+=(@nestjs/common@11 @nestjs/core@11 @nestjs/typeorm@11 @nestjs/testing@11
    @nestjs/platform-express@11 @nestjs/schedule@6 @nestjs/event-emitter@3 @nestjs/swagger@11)
fi
npm install --no-save --no-audit --no-fund "${packages[@]}"
echo "typeorm 0.3: running on typeorm $(node -p "require('./node_modules/typeorm/package.json').version")," \
  "@nestjs/typeorm $(node -p "require('./node_modules/@nestjs/typeorm/package.json').version")"
if [ "$#" -gt 0 ]; then
  # As npm test does first: the sources and tests type-check against 0.3's types too.
  npm run pretest
  node --experimental-vm-modules node_modules/jest/bin/jest.js "$@"
else
  npm test
fi
