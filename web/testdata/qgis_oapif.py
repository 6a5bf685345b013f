# Loads every collection of an OGC API - Features service in QGIS, as
# "Add WFS / OGC API - Features layer" does, and prints what QGIS made of
# each as one JSON object. Run with Debian's python3:
#   QT_QPA_PLATFORM=offscreen /usr/bin/python3 qgis_oapif.py URL ID...
import json
import sys

from qgis.core import QgsApplication, QgsVectorLayer

QgsApplication.setPrefixPath("/usr", True)
app = QgsApplication([], False)
app.initQgis()
log = []
QgsApplication.messageLog().messageReceived.connect(lambda msg, tag, level: log.append(f"{tag}: {msg}"))


def plain(v):
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return str(v)


url, ids = sys.argv[1], sys.argv[2:]
out = {}
for cid in ids:
    layer = QgsVectorLayer(f"url='{url}' typename='{cid}'", cid, "OAPIF")
    r = {"valid": layer.isValid()}
    if layer.isValid():
        r["featureCount"] = layer.featureCount()
        feats = list(layer.getFeatures())
        r["iterated"] = len(feats)
        r["fields"] = {f.name(): f.typeName() for f in layer.fields()}
        r["crs"] = layer.crs().authid()
        if feats:
            first = min(feats, key=lambda f: f.id())
            r["firstId"] = first.id()
            r["first"] = {name: plain(v) for name, v in zip(layer.fields().names(), first.attributes())}
    else:
        # error().summary() on an invalid OAPIF layer crashes QGIS 3.22.
        r["error"] = layer.dataProvider().error().message() if layer.dataProvider() else ""
    out[cid] = r
    del layer
print(json.dumps({"layers": out, "log": log}, ensure_ascii=False))
app.exitQgis()
