#!/bin/sh
# Regenerates planmap-0003.gpkg: a database written by the release before
# the change log (migration 0004), at commit e4e3471, for the test that
# opens it with today's store (layers/gpkg/migrate_test.go). Run from this
# folder, in a clone of the repository, with Go and npm.
set -eu
old=$(mktemp -d)
git worktree add --detach "$old/src" e4e3471
(cd "$old/src" && make assets && go build -o "$old/planmap" ./cmd/planmap)
rm -f planmap-0003.gpkg
# Two seed layers of that release: terminals (polygons) and roads (lines).
"$old/planmap" import --db planmap-0003.gpkg "$old/src/seeds/terminals.geojson" "$old/src/seeds/roads.geojson"
git worktree remove --force "$old/src"
rm -rf "$old"
