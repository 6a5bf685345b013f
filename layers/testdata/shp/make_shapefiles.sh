#!/bin/sh
# Regenerates the shapefiles made by ogr2ogr from seed layers, as Chinese
# planning data arrives: in CGCS2000 Gauss-Kruger or lon/lat, in UTF-8 or
# GBK, with or without a .cpg. Run from this folder with gdal-bin installed.
set -eu
seeds=../../../seeds
rm -f ./*.shp ./*.shx ./*.dbf ./*.prj ./*.cpg ./*.zip
shp() { ogr2ogr -f "ESRI Shapefile" "$@" 2>&1 | grep -v 'Normalized/laundered field name' || true; }
# UTF-8, said in a .cpg; CGCS2000 / 3-degree Gauss-Kruger CM 120E.
shp -t_srs EPSG:4549 -lco ENCODING=UTF-8 roads_utf8.shp $seeds/roads.geojson
# GBK, said only by the DBF language driver byte (LDID 0x4D = CP936); CGCS2000 lon/lat.
shp -t_srs EPSG:4490 -lco ENCODING=LDID/77 resettlement_ldid.shp $seeds/resettlement.geojson
# GBK said nowhere: no .cpg, LDID 0; Gauss-Kruger zone 40 (zone number in the easting).
shp -t_srs EPSG:4528 -lco ENCODING=CP936 resettlement_gbk.shp $seeds/resettlement.geojson
rm resettlement_gbk.cpg
printf '\000' | dd of=resettlement_gbk.dbf bs=1 seek=29 conv=notrunc 2>/dev/null
# Points, in a .zip with a line layer, as plans are mailed.
shp -t_srs EPSG:4549 -lco ENCODING=UTF-8 stations.shp $seeds/stations.geojson
zip -q -X plan.zip stations.shp stations.shx stations.dbf stations.prj stations.cpg roads_utf8.shp roads_utf8.shx roads_utf8.dbf roads_utf8.prj roads_utf8.cpg
rm stations.*
# Every attribute type, a polygon with a hole and a multipolygon; zone 40.
shp -t_srs EPSG:4528 -lco ENCODING=UTF-8 parcels.shp ../parcels.geojson
# Points with heights, and one record marked deleted in the .dbf (the
# deletion flag of record 2: header 32 bytes + 32 per field + terminator).
shp -t_srs EPSG:4549 -lco ENCODING=UTF-8 -dim XYZ stations_z.shp $seeds/stations.geojson
hlen=$(od -An -tu2 -j8 -N2 stations_z.dbf | tr -d ' ')
rlen=$(od -An -tu2 -j10 -N2 stations_z.dbf | tr -d ' ')
printf '*' | dd of=stations_z.dbf bs=1 seek=$((hlen + rlen)) conv=notrunc 2>/dev/null
# A CRS planmap does not take: WGS 84 / UTM zone 51N.
shp -t_srs EPSG:32651 -lco ENCODING=UTF-8 roads_utm.shp $seeds/roads.geojson
