#!/bin/sh
# Regenerates the layer files made by GDAL from parcels.geojson (and one
# seed layer), the way QGIS and ogr2ogr save GeoJSON. Run from this folder
# with gdal-bin installed.
set -eu
rm -f qgis_crs84.geojson epsg3857.geojson epsg32651.geojson with_z.geojson cgcs2000.geojson epsg4528.geojson resettlement_epsg4549.geojson
# What QGIS "Save Features As" writes: no ids, no declaration, a CRS84 crs member.
ogr2ogr -f GeoJSON -nonativedata qgis_crs84.geojson parcels.geojson
# Reprojected to Web Mercator, declaration and ids kept.
ogr2ogr -f GeoJSON -t_srs EPSG:3857 epsg3857.geojson parcels.geojson
# CGCS2000 3-degree Gauss-Kruger zone 40 (zone number in the easting),
# declaration and ids kept.
ogr2ogr -f GeoJSON -t_srs EPSG:4528 epsg4528.geojson parcels.geojson
# A seed layer in CGCS2000 3-degree Gauss-Kruger CM 120E.
ogr2ogr -f GeoJSON -t_srs EPSG:4549 resettlement_epsg4549.geojson ../../seeds/resettlement.geojson
# A projected CRS planmap does not take (WGS 84 / UTM zone 51N).
ogr2ogr -f GeoJSON -nonativedata -preserve_fid -t_srs EPSG:32651 epsg32651.geojson parcels.geojson
# Heights added.
ogr2ogr -f GeoJSON -nonativedata -preserve_fid -dim XYZ with_z.geojson parcels.geojson
# Labelled CGCS2000.
ogr2ogr -f GeoJSON -nonativedata -preserve_fid -a_srs EPSG:4490 cgcs2000.geojson parcels.geojson
