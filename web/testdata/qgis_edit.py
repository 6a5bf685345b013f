# Edits a GeoPackage layer in place the way a planner does in QGIS, on the
# live file planmap serves, and prints what it did as one JSON object.
#   QT_QPA_PLATFORM=offscreen /usr/bin/python3 qgis_edit.py FILE LAYER edit FID NAME DX
#     moves feature FID by DX degrees east and sets name_zh to NAME, in one
#     editing session (startEditing … commitChanges)
#   QT_QPA_PLATFORM=offscreen /usr/bin/python3 qgis_edit.py FILE LAYER addfield FIELD
#     adds a text field FIELD through the data provider
#   QT_QPA_PLATFORM=offscreen /usr/bin/python3 qgis_edit.py FILE LAYER dropfield FIELD
#     deletes field FIELD through the data provider
import json
import sys

from qgis.core import QgsApplication, QgsField, QgsGeometry, QgsVectorLayer
from qgis.PyQt.QtCore import QVariant

QgsApplication.setPrefixPath("/usr", True)
app = QgsApplication([], False)
app.initQgis()
log = []
QgsApplication.messageLog().messageReceived.connect(lambda msg, tag, level: log.append(f"{tag}: {msg}"))

path, lid, what = sys.argv[1], sys.argv[2], sys.argv[3]
layer = QgsVectorLayer(f"{path}|layername={lid}", lid, "ogr")
out = {"valid": layer.isValid(), "log": log}
if not layer.isValid():
    out["error"] = layer.error().summary()
elif what == "edit":
    fid, name, dx = int(sys.argv[4]), sys.argv[5], float(sys.argv[6])
    f = layer.getFeature(fid)
    g = QgsGeometry(f.geometry())
    g.translate(dx, 0)
    out["started"] = layer.startEditing()
    out["geometryChanged"] = layer.changeGeometry(fid, g)
    out["attributeChanged"] = layer.changeAttributeValue(fid, layer.fields().indexOf("name_zh"), name)
    out["committed"] = layer.commitChanges()
    out["errors"] = layer.commitErrors()
    out["wkt"] = g.asWkt(9)
elif what == "addfield":
    field = sys.argv[4]
    out["added"] = layer.dataProvider().addAttributes([QgsField(field, QVariant.String)])
    layer.updateFields()
    out["fields"] = [f.name() for f in layer.fields()]
    out["errors"] = layer.dataProvider().errors()
elif what == "dropfield":
    field = sys.argv[4]
    out["dropped"] = layer.dataProvider().deleteAttributes([layer.fields().indexOf(field)])
    layer.updateFields()
    out["fields"] = [f.name() for f in layer.fields()]
    out["errors"] = layer.dataProvider().errors()
print(json.dumps(out))
del layer
app.exitQgis()
