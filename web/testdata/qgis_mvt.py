# Loads the vector tiles of a planmap service in QGIS as an XYZ vector tile
# source ("Vector Tiles > New Generic Connection"), draws one tile with a
# plain red fill, and prints as one JSON object whether the layer is
# valid, how many pixels of the drawing are red, and QGIS's log. QGIS 3.22
# decodes tiles only to draw them (QgsVectorTileMVTDecoder is not in its
# Python bindings, and its vector tile layers do not iterate features):
# red pixels are features it decoded. Run with Debian's python3:
#   QT_QPA_PLATFORM=offscreen /usr/bin/python3 qgis_mvt.py URL-TEMPLATE Z X Y
import json
import sys

from qgis.core import (QgsApplication, QgsCoordinateReferenceSystem, QgsMapRendererParallelJob, QgsMapSettings,
                       QgsRectangle, QgsVectorTileBasicRenderer, QgsVectorTileLayer)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

QgsApplication.setPrefixPath("/usr", True)
app = QgsApplication([], False)
app.initQgis()
log = []
QgsApplication.messageLog().messageReceived.connect(lambda msg, tag, level: log.append(f"{tag}: {msg}"))

url, z, x, y = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
layer = QgsVectorTileLayer(f"type=xyz&url={url}&zmin=0&zmax=22", "planmap")
out = {"valid": layer.isValid(), "red": 0}
if layer.isValid():
    red = QColor(255, 0, 0)
    r = QgsVectorTileBasicRenderer()
    r.setStyles(QgsVectorTileBasicRenderer.simpleStyle(red, red, 0.1, red, 0.5, red, red, 1.0))
    layer.setRenderer(r)
    # The tile's bounds in EPSG:3857.
    half = 20037508.342789244
    size = 2 * half / 2 ** z
    ext = QgsRectangle(-half + x * size, half - (y + 1) * size, -half + (x + 1) * size, half - y * size)
    ms = QgsMapSettings()
    ms.setLayers([layer])
    ms.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    ms.setExtent(ext)
    ms.setOutputSize(QSize(256, 256))
    ms.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererParallelJob(ms)
    job.start()
    job.waitForFinished()
    img = job.renderedImage()
    n = 0
    for j in range(img.height()):
        for i in range(img.width()):
            c = QColor(img.pixel(i, j))
            if c.red() > 200 and c.green() < 80 and c.blue() < 80:
                n += 1
    out["red"] = n
    out["zoom"] = layer.sourceMaxZoom()
out["log"] = log
del layer
print(json.dumps(out, ensure_ascii=False))
app.exitQgis()
