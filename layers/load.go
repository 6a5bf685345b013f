package layers

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Input is a file format read into layer files besides GeoJSON and
// shapefiles, which are read here.
type Input struct {
	// Match reports whether the file at path is in the format.
	Match func(path string) bool
	// Read reads it, one File per layer it holds.
	Read func(path string) ([]*File, error)
}

var inputs []Input

// RegisterInput makes ReadFiles read another format. The GeoPackage store
// registers GeoPackages, a format it already reads and writes, so that
// this package need not know SQLite.
func RegisterInput(in Input) { inputs = append(inputs, in) }

// isLayerFile reports whether a file name looks like a layer file or a
// shapefile.
func isLayerFile(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".geojson" || ext == ".json" || isShapefile(name)
}

// ReadFiles parses the layer files at paths; a folder stands for the
// .geojson, .json, .shp and .zip files directly in it, in name order. A
// shapefile (.shp) or a .zip of shapefiles gives a File per shapefile, as
// ReadShapefile reads them; a GeoPackage (a .gpkg or any SQLite file) a
// File per feature table, as ReadGPKG reads them. Every problem of every
// file is in the returned
// error, and no file is returned then.
func ReadFiles(paths []string) ([]*File, error) {
	var names []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, Errorf(EINVALID, "%s: %v", p, errors.Unwrap(err))
		}
		if !fi.IsDir() {
			names = append(names, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, err
		}
		n0 := len(names)
		for _, e := range entries {
			if !e.IsDir() && isLayerFile(e.Name()) {
				names = append(names, filepath.Join(p, e.Name()))
			}
		}
		if len(names) == n0 {
			return nil, Errorf(EINVALID, "%s: no .geojson, .json, .shp or .zip files in this folder", p)
		}
	}
	return parseAll(names, readFile)
}

// ReadFS parses every .geojson file at the root of fsys, in name order.
func ReadFS(fsys fs.FS) ([]*File, error) {
	names, err := fs.Glob(fsys, "*.geojson")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	return parseAll(names, func(name string) ([]*File, error) {
		data, err := fs.ReadFile(fsys, path.Clean(name))
		if err != nil {
			return nil, Errorf(EINVALID, "%s: %v", name, err)
		}
		return parseOne(name, data)
	})
}

// readFile reads the input file at name: a shapefile or a .zip of them
// gives a File per shapefile, a GeoPackage a File per feature table, a
// layer file one.
func readFile(name string) ([]*File, error) {
	if isShapefile(name) {
		return ReadShapefile(name)
	}
	for _, in := range inputs {
		if in.Match(name) {
			return in.Read(name)
		}
	}
	f, err := OpenFile(name)
	if err != nil {
		return nil, err
	}
	return []*File{f}, nil
}

func parseOne(name string, data []byte) ([]*File, error) {
	f, err := ParseFile(name, data)
	if err != nil {
		return nil, err
	}
	return []*File{f}, nil
}

func parseAll(names []string, read func(string) ([]*File, error)) ([]*File, error) {
	var files []*File
	// errs holds each name's problems, in name order: what could not be
	// read, else, once another file is refused, the problems of the
	// features that OpenFile left on disk, parsed now so that the error
	// lists every file's problems.
	errs := make([]error, len(names))
	read1 := make([][]*File, len(names))
	failed := false
	for i, name := range names {
		got, err := read(name)
		if err != nil {
			if ErrorCode(err) != EINVALID {
				return nil, err
			}
			errs[i], failed = err, true
			continue
		}
		read1[i] = got
		files = append(files, got...)
	}
	var msgs []string
	for i := range names {
		if errs[i] != nil {
			msgs = append(msgs, errs[i].Error())
			continue
		}
		for _, f := range read1[i] {
			if !failed || f.src == nil {
				continue
			}
			if err := f.each(nil, nil, nil); err != nil {
				return nil, err
			}
			if f.parseErr != nil {
				msgs = append(msgs, f.parseErr.Error())
			}
		}
	}
	if len(msgs) > 0 {
		return nil, &Error{Code: EINVALID, Message: strings.Join(msgs, "\n")}
	}
	if len(files) == 0 {
		return nil, Errorf(EINVALID, "no layer files given")
	}
	return files, nil
}
