package web

import (
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	"planmap/layers"
)

// This file is the layers themselves over HTTP, for admins: a layer is
// created from a declaration, given a new one, or dropped (its history
// kept). A declaration is what a layer file declares (its members id,
// title, description, geometryType, order, schema, style and rules; any
// features are ignored), checked as an import checks a layer file's.

// layerEditor returns the store as a LayerEditor, if it is one.
func (s *server) layerEditor() (LayerEditor, bool) {
	ed, ok := s.store.(LayerEditor)
	// A cache has these methods whatever it is in front of (see editor).
	if e, wraps := s.store.(interface{ Editable() bool }); ok && wraps {
		ok = e.Editable()
	}
	return ed, ok
}

// adminRoutes adds, when the store is a LayerEditor:
//
//	POST   /collections                  a new layer from its declaration → 201, Location
//	PUT    /collections/{collectionId}   the layer redeclared → 200
//	DELETE /collections/{collectionId}   the layer dropped, its history kept → 204
func (s *server) adminRoutes(r chi.Router) {
	if _, ok := s.layerEditor(); !ok {
		return
	}
	r.Post("/collections", s.write(s.createCollection))
	r.Put("/collections/{collectionId}", s.write(s.replaceCollection))
	r.Delete("/collections/{collectionId}", s.write(s.deleteCollection))
}

// adminEdit is what every change of a layer begins with: an admin
// token, no query parameters, and the note.
func (s *server) adminEdit(r *http.Request, id string) (layers.Edit, error) {
	p, err := s.authorize(r, id, true)
	if err != nil {
		return layers.Edit{}, err
	}
	if err := checkParams(r.URL.Query()); err != nil {
		return layers.Edit{}, err
	}
	return edit(r, p)
}

// readDeclaration reads a declaration from the body. A declaration
// without an id is of layer id when id is given (PUT), and refused when
// it is not (POST); one with another id than the path's is refused.
func readDeclaration(w http.ResponseWriter, r *http.Request, id string) (*layers.Layer, error) {
	body, err := readBody(w, r, mediaJSON)
	if err != nil {
		return nil, err
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) == nil && top["id"] == nil && top["name"] == nil && id == "" {
		return nil, layers.Errorf(layers.EINVALID, "the declaration has no id member: give the new layer's id")
	}
	name := "declaration"
	if id != "" {
		// A declaration without an id is the path's layer's.
		name = id + ".json"
	}
	l, err := layers.ParseDeclaration(name, body)
	if err != nil {
		return nil, err
	}
	if id != "" && l.ID != id {
		return nil, layers.Errorf(layers.EINVALID, "the declaration is of layer %s, not %s: a layer's id does not change", l.ID, id)
	}
	return l, nil
}

// collectionHref is the URL of collection id.
func (s *server) collectionHref(r *http.Request, id string) string {
	return s.base(r) + "/collections/" + url.PathEscape(id)
}

// writeCollection answers a change of a layer with its collection
// document as it is now.
func (s *server) writeCollection(w http.ResponseWriter, r *http.Request, id string, status int) error {
	cat, err := s.store.Catalog(r.Context())
	if err != nil {
		return err
	}
	col, ok := cat.Collection(id)
	if !ok {
		return layers.Errorf(layers.ENOTFOUND, "collection %s not found after writing it", id)
	}
	return writeJSON(w, status, s.collectionDoc(s.base(r), col))
}

func (s *server) createCollection(w http.ResponseWriter, r *http.Request) error {
	ed, _ := s.layerEditor()
	e, err := s.adminEdit(r, "")
	if err != nil {
		return err
	}
	l, err := readDeclaration(w, r, "")
	if err != nil {
		return err
	}
	if err := ed.DeclareLayer(r.Context(), l, e); err != nil {
		return err
	}
	w.Header().Set("Location", s.collectionHref(r, l.ID))
	return s.writeCollection(w, r, l.ID, http.StatusCreated)
}

func (s *server) replaceCollection(w http.ResponseWriter, r *http.Request) error {
	ed, _ := s.layerEditor()
	col, err := s.lookup(r)
	if err != nil {
		return err
	}
	e, err := s.adminEdit(r, col.ID)
	if err != nil {
		return err
	}
	l, err := readDeclaration(w, r, col.ID)
	if err != nil {
		return err
	}
	if err := ed.RedeclareLayer(r.Context(), l, e); err != nil {
		return err
	}
	return s.writeCollection(w, r, l.ID, http.StatusOK)
}

func (s *server) deleteCollection(w http.ResponseWriter, r *http.Request) error {
	ed, _ := s.layerEditor()
	col, err := s.lookup(r)
	if err != nil {
		return err
	}
	e, err := s.adminEdit(r, col.ID)
	if err != nil {
		return err
	}
	if err := ed.DropLayer(r.Context(), col.ID, e); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// openAPIAdmin adds the changes of the layers themselves to the API
// definition doc, after openAPIEdit has added the writes' components.
func openAPIAdmin(doc obj, cat *layers.Catalog) {
	paths := doc["paths"].(obj)
	comps := doc["components"].(obj)
	responses := comps["responses"].(obj)
	responses["409"] = obj{"description": "A collection of that id exists.",
		"content": obj{mediaProblem: obj{"schema": ref("schemas/problem")}}}
	comps["schemas"].(obj)["layerDeclaration"] = obj{"type": "object", "required": []string{"title", "geometryType", "schema"},
		"description": "A layer's declaration, as a layer file gives it (see the README): id, title {zh, en}, description, geometryType, order, schema (the fields), style and rules. Checked as an import checks a layer file's.",
		"properties": obj{
			"id":           obj{"type": "string", "description": "The layer's id; required to create one, and the path's to redeclare one"},
			"title":        obj{"type": "object"},
			"description":  obj{"type": "object"},
			"geometryType": obj{"type": "string", "enum": layers.GeometryTypes},
			"order":        obj{"type": "integer"},
			"schema":       obj{"type": "array", "items": obj{"type": "object"}},
			"style":        obj{"type": "object"},
			"rules":        obj{"type": "array", "items": obj{"type": "object"}},
		}}
	body := obj{"required": true, "description": "The layer's declaration",
		"content": obj{mediaJSON: obj{"schema": ref("schemas/layerDeclaration")}}}
	colDoc := obj{"description": "The layer as it now is", "content": obj{mediaJSON: obj{"schema": ref("schemas/collection")}}}
	codes := func(o obj, cs ...string) obj {
		rs := o["responses"].(obj)
		for _, c := range cs {
			rs[c] = ref("responses/" + c)
		}
		return o
	}
	note := ref("parameters/Planmap-Note")
	secured := []obj{{"bearer": []string{}}}
	paths["/collections"].(obj)["post"] = codes(obj{"operationId": "createCollection", "tags": []string{"Capabilities"},
		"summary":  "Create a layer, empty, from its declaration (admins)",
		"security": secured, "parameters": []obj{note}, "requestBody": body,
		"responses": obj{"201": obj{"description": colDoc["description"], "content": colDoc["content"],
			"headers": obj{"Location": obj{"description": "The URL of the new collection", "schema": obj{"type": "string", "format": "uri"}}}}}},
		"400", "401", "403", "409", "413", "415", "500")
	for _, col := range cat.Collections {
		p := paths["/collections/"+col.ID].(obj)
		p["put"] = codes(obj{"operationId": "replaceCollection_" + col.ID, "tags": []string{col.ID},
			"summary":  "Give " + col.Title.En + " a new declaration (admins); refused, naming them, if stored features break it",
			"security": secured, "parameters": []obj{note}, "requestBody": body,
			"responses": obj{"200": colDoc}},
			"400", "401", "403", "404", "413", "415", "500")
		p["delete"] = codes(obj{"operationId": "deleteCollection_" + col.ID, "tags": []string{col.ID},
			"summary":  "Delete " + col.Title.En + " and its features (admins); its history is kept",
			"security": secured, "parameters": []obj{note},
			"responses": obj{}},
			"204", "401", "403", "404", "500")
	}
}
