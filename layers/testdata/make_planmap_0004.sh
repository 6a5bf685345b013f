#!/bin/sh
# Regenerates planmap-0004.gpkg: a database written by the release before
# history (migration 0005), at commit d8c4b87, for the test that opens it
# with today's store (layers/gpkg/migrate_test.go). Run from this folder,
# in a clone of the repository, with Go, npm and GDAL's ogrinfo.
set -eu
old=$(mktemp -d)
git worktree add --detach "$old/src" d8c4b87
(cd "$old/src" && make assets && go build -o "$old/planmap" ./cmd/planmap)
rm -f planmap-0004.gpkg
# Two seed layers of that release: terminals (polygons) and roads (lines).
"$old/planmap" import --db planmap-0004.gpkg "$old/src/seeds/terminals.geojson" "$old/src/seeds/roads.geojson"
# The highest terminal deleted by another program: its id must stay
# retired after the upgrade, though no feature table row remembers it.
ogrinfo -q planmap-0004.gpkg -sql "DELETE FROM terminals WHERE fid = (SELECT max(fid) FROM terminals)"
git worktree remove --force "$old/src"
rm -rf "$old"
