# Opens every layer QGIS finds in a GeoPackage, as dragging the file onto
# QGIS does, each for editing too, and prints as one JSON object what QGIS
# made of each: the styles it finds in the file, the renderer the layer
# loads with, and every message QGIS logged. GDAL's own warnings go to
# stderr. Run with Debian's python3:
#   QT_QPA_PLATFORM=offscreen /usr/bin/python3 qgis_gpkg.py FILE
import json
import sys

from qgis.core import QgsApplication, QgsDataProvider, QgsExpressionContextUtils, QgsRenderContext, QgsVectorLayer

QgsApplication.setPrefixPath("/usr", True)
app = QgsApplication([], False)
app.initQgis()
log = []
QgsApplication.messageLog().messageReceived.connect(lambda msg, tag, level: log.append(f"{tag}: {msg}"))


def color(c):
    return c.name(c.HexRgb).upper()


def symbol(s):
    sl = s.symbolLayer(0)
    r = {"type": s.type(), "color": color(s.color()), "layer": sl.layerType(), "props": sl.properties()}
    dd = sl.dataDefinedProperties()
    r["dataDefined"] = {str(k): dd.property(k).expressionString() for k in dd.propertyKeys() if dd.property(k).isActive()}
    return r


path = sys.argv[1]
whole = QgsVectorLayer(path, "file", "ogr")
# Sublayers read "index!!::!!name!!::!!count!!::!!geometry type...".
ids = [s.split(QgsDataProvider.sublayerSeparator())[1] for s in whole.dataProvider().subLayers()]
del whole
out = {}
for lid in ids:
    layer = QgsVectorLayer(f"{path}|layername={lid}", lid, "ogr")
    r = {"valid": layer.isValid()}
    if layer.isValid():
        r["featureCount"] = layer.featureCount()
        n, sids, names, descs, err = layer.listStylesInDatabase()
        r["styles"] = {"related": n, "names": names, "error": err}
        rend = layer.renderer()
        r["renderer"] = rend.type() if rend else ""
        if not rend:
            pass
        elif rend.type() == "categorizedSymbol":
            r["attr"] = rend.classAttribute()
            r["categories"] = [{"value": str(c.value()), "label": c.label(), "symbol": symbol(c.symbol())}
                               for c in rend.categories()]
        elif rend.type() == "singleSymbol":
            r["symbol"] = symbol(rend.symbol())
        # The colour each feature is drawn in, with its land-use class.
        if rend:
            ctx = QgsRenderContext()
            ctx.expressionContext().appendScopes(QgsExpressionContextUtils.globalProjectLayerScopes(layer))
            rend = rend.clone()
            rend.startRender(ctx, layer.fields())
            drawn = []
            has_class = "landuse_gb50137" in layer.fields().names()
            for f in layer.getFeatures():
                ctx.expressionContext().setFeature(f)
                s = rend.symbolForFeature(f, ctx)
                cls = f["landuse_gb50137"] if has_class else None
                drawn.append({"class": cls if isinstance(cls, str) else "", "color": color(s.color()) if s else ""})
            rend.stopRender(ctx)
            r["drawn"] = drawn
        r["labels"] = layer.labeling().settings().fieldName if layer.labelsEnabled() else ""
        # Opening for editing is where GDAL warns of extensions it does not
        # know ("must not be updated").
        r["editable"] = layer.startEditing()
        layer.rollBack()
    out[lid] = r
    del layer
print(json.dumps({"layers": out, "log": log}, ensure_ascii=False))
app.exitQgis()
