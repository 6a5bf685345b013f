#!/bin/sh
# Regenerates planmap-0007.gpkg: a database written by the release before
# the direct-edit flags were kept (migration 0008), at commit 3c3326b, for
# the test that opens it with today's store (layers/gpkg/migrate_test.go).
# Run from this folder, in a clone of the repository, with Go and npm.
set -eu
old=$(mktemp -d)
git worktree add --detach "$old/src" 3c3326b
(cd "$old/src" && make assets && go build -o "$old/planmap" ./cmd/planmap)
rm -f planmap-0007.gpkg
# The seed boundary and terminals, whose rules (within boundary, not
# overlapping each other) the test breaks by a direct edit.
"$old/planmap" import --db planmap-0007.gpkg "$old/src/seeds/boundary.geojson" "$old/src/seeds/terminals.geojson"
git worktree remove --force "$old/src"
rm -rf "$old"
