// Package seeds embeds the hand-drawn layers of Haimen Port New Area, one
// layer file per layer. planmap serve loads them into a new database.
//
// The positions are approximations drawn by hand from public descriptions
// (see each feature's position_confidence and position_note), not survey
// data.
package seeds

import "embed"

// FS holds the layer files, <layer-id>.geojson, at its root.
//
//go:embed *.geojson
var FS embed.FS
