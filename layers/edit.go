package layers

import (
	"slices"
	"time"
)

// Edit says who changes the plan and why; the history keeps both with
// the version the change begins.
type Edit struct {
	// Author is the name of the token the change was made with. Empty
	// in a stored version: a direct edit of the database (QGIS, GDAL),
	// made without planmap.
	Author string
	// Note is the editor's reason for the change, if one was given.
	Note string
}

// OpRestore is the op of the version that brings a deleted feature back
// under its id. Only versions have it: the change log records an insert.
const OpRestore Op = "restore"

// Version is one version of a feature as its history keeps it.
type Version struct {
	Number int       // 1 for the feature's first version
	Op     Op        // the change that began this version
	From   time.Time // when it began
	To     time.Time // when the next began; zero while it is current
	Author string    // "" for a direct edit
	Note   string
	// Item is the feature as it was during the version; nil for the
	// version a delete began, during which there was no feature.
	Item *Item
}

// Role is what a token may do.
type Role string

const (
	// RoleEditor may change the features of its layers.
	RoleEditor Role = "editor"
	// RoleAdmin may also create, redeclare and delete layers.
	RoleAdmin Role = "admin"
)

// Principal is who a bearer token speaks for. Its Name, never the token,
// is what logs and the history record.
type Principal struct {
	Name string
	Role Role
	// Layers are the layers the token may change; empty: all of them.
	Layers []string
}

// MayEdit says whether p may change the features of layer.
func (p *Principal) MayEdit(layer string) bool {
	if p == nil {
		return false
	}
	return p.Role == RoleAdmin || len(p.Layers) == 0 || slices.Contains(p.Layers, layer)
}

// MayAdmin says whether p may create, redeclare and delete layers.
func (p *Principal) MayAdmin() bool { return p != nil && p.Role == RoleAdmin }
