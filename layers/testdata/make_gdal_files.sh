#!/bin/sh
# Regenerates the files made by GDAL: layer files from parcels.geojson, the
# way QGIS and ogr2ogr save GeoJSON, and GeoPackages from it and some seeds.
# Run from this folder with gdal-bin installed.
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

# GeoPackages as GDAL writes them, for planmap import FILE.gpkg.
rm -f gdal_layers.gpkg epsg3857.gpkg epsg32651.gpkg with_z.gpkg
# Four layers in EPSG:4326: the test parcels (every field type; Polygon and
# MultiPolygon mixed, so GDAL declares the generic GEOMETRY) and three seeds.
ogr2ogr -f GPKG -preserve_fid -nln parcels gdal_layers.gpkg parcels.geojson
for layer in industry monitoring railways; do
	ogr2ogr -f GPKG -update -preserve_fid -nln $layer gdal_layers.gpkg ../../seeds/$layer.geojson
done
# Two seed layers in Web Mercator.
ogr2ogr -f GPKG -preserve_fid -t_srs EPSG:3857 -nln industry epsg3857.gpkg ../../seeds/industry.geojson
ogr2ogr -f GPKG -update -preserve_fid -t_srs EPSG:3857 -nln monitoring epsg3857.gpkg ../../seeds/monitoring.geojson
# A projected CRS planmap does not take (WGS 84 / UTM zone 51N).
ogr2ogr -f GPKG -preserve_fid -t_srs EPSG:32651 -nln parcels epsg32651.gpkg parcels.geojson
# Heights added.
ogr2ogr -f GPKG -preserve_fid -dim XYZ -nln parcels with_z.gpkg parcels.geojson
