"""Edits a GeoPackage the way a planner does in QGIS: opens its parcels
table as a layer, changes an attribute, adds a feature and deletes one, and
saves. Prints one JSON line: the fid QGIS gave the new feature and the
messages QGIS logged.

run: QT_QPA_PLATFORM=offscreen XDG_RUNTIME_DIR=$(mktemp -d) /usr/bin/python3 qgis_edit_gpkg.py FILE.gpkg
"""
import json
import sys

from qgis.core import QgsApplication, QgsFeature, QgsGeometry, QgsVectorLayer

QgsApplication.setPrefixPath("/usr", True)
app = QgsApplication([], False)
app.initQgis()
logs = []
QgsApplication.messageLog().messageReceived.connect(lambda m, t, l: logs.append(f"{t}: {m}"))

layer = QgsVectorLayer(sys.argv[1] + "|layername=parcels", "parcels", "ogr")
if not layer.isValid():
    print(json.dumps({"error": "not a valid layer", "log": logs}))
    sys.exit(1)
fields = layer.fields()
layer.startEditing()
layer.changeAttributeValue(3, fields.indexOf("name_en"), "Parcel three, edited in QGIS")
f = QgsFeature(fields)
f.setAttribute("name_zh", "九号地块")
f.setAttribute("status", "planned")
f.setAttribute("berths", 2)
f.setGeometry(QgsGeometry.fromWkt("MULTIPOLYGON(((121.45 32.13,121.46 32.13,121.46 32.14,121.45 32.14,121.45 32.13)))"))
layer.addFeature(f)
layer.deleteFeature(7)
ok = layer.commitChanges()
new = [g.id() for g in layer.getFeatures() if g["name_zh"] == "九号地块"]
print(json.dumps({"committed": ok, "errors": layer.commitErrors(), "new": new, "log": logs}))
del layer
app.exitQgis()
