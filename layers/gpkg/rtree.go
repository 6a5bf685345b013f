package gpkg

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/paulmach/orb"
)

// rtreeBox is one entry of an R-tree: a feature's id, or a child node's
// number, and its box as SQLite's R-tree stores it, in single precision.
type rtreeBox struct {
	id                     int64
	minX, maxX, minY, maxY float32
}

// newRTreeBox returns the entry of feature id with bounds b, rounded
// outward to single precision exactly as SQLite's R-tree rounds the
// values an INSERT gives it (rtreeValueDown, rtreeValueUp in rtree.c: the
// nearest float, moved one step outward when it is inside).
func newRTreeBox(id int64, b orb.Bound) rtreeBox {
	return rtreeBox{id: id, minX: down32(b.Min[0]), maxX: up32(b.Max[0]), minY: down32(b.Min[1]), maxY: up32(b.Max[1])}
}

func down32(d float64) float32 {
	f := float32(d)
	if float64(f) > d {
		f = step32(f, math.Signbit(float64(f)))
	}
	return f
}

func up32(d float64) float32 {
	f := float32(d)
	if float64(f) < d {
		f = step32(f, !math.Signbit(float64(f)))
	}
	return f
}

// step32 moves f one representable value away from zero, or towards it.
func step32(f float32, away bool) float32 {
	bits := math.Float32bits(f)
	if away {
		bits++
	} else {
		bits--
	}
	return math.Float32frombits(bits)
}

func (b rtreeBox) union(o rtreeBox) rtreeBox {
	return rtreeBox{id: b.id, minX: min(b.minX, o.minX), maxX: max(b.maxX, o.maxX), minY: min(b.minY, o.minY), maxY: max(b.maxY, o.maxY)}
}

// loadRTree fills the empty R-tree index of table t with boxes in one go:
// a packed tree (Sort-Tile-Recursive) written straight into the R-tree's
// node, rowid and parent tables, in the format SQLite's R-tree module
// reads and keeps up to date afterwards. Inserting a million boxes through
// the module costs about 15 µs each, most of an import; this costs about
// one row write per box. The boxes are reordered.
func loadRTree(ctx context.Context, tx *sql.Tx, t string, boxes []rtreeBox) error {
	if len(boxes) == 0 {
		return nil
	}
	r := "rtree_" + t + "_geom"
	qn, qr, qp := quoteIdent(r+"_node"), quoteIdent(r+"_rowid"), quoteIdent(r+"_parent")
	// The node size is fixed when the R-tree is made (from the page
	// size); the empty root node has it.
	var root []byte
	if err := tx.QueryRowContext(ctx, `SELECT data FROM `+qn+` WHERE nodeno = 1`).Scan(&root); err != nil {
		return fmt.Errorf("spatial index of %s: %w", t, err)
	}
	const cell = 8 + 4*4
	size := len(root)
	fanout := (size - 4) / cell
	if fanout < 2 || len(root) < 4 || binary.BigEndian.Uint16(root[2:]) != 0 {
		return fmt.Errorf("spatial index of %s: root node of %d bytes is not that of an empty R-tree", t, size)
	}
	for _, q := range []string{`DELETE FROM ` + qn, `DELETE FROM ` + qr, `DELETE FROM ` + qp} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("spatial index of %s: %w", t, err)
		}
	}
	insNode, err := tx.PrepareContext(ctx, `INSERT INTO `+qn+` (nodeno, data) VALUES (?, ?)`)
	if err != nil {
		return err
	}
	defer insNode.Close()
	rows := newBatchInsert(ctx, tx, `INSERT INTO `+qr+` (rowid, nodeno) VALUES `, 2, 200, "")
	defer rows.close()
	parents := newBatchInsert(ctx, tx, `INSERT INTO `+qp+` (nodeno, parentnode) VALUES `, 2, 200, "")
	defer parents.close()

	// The rowid table is written last, in the order of the features' ids:
	// in the packed order its rows would land all over its B-tree, which
	// cost three times the rest of the load for a million boxes.
	leaves := make([][2]int64, 0, len(boxes))

	// Levels from the leaves up; node numbers from 2, the root is 1.
	next := int64(2)
	level, depth := boxes, 0
	buf := make([]byte, size)
	for {
		isRoot := len(level) <= fanout
		packSTR(level, fanout)
		var up []rtreeBox
		for i := 0; i < len(level); i += fanout {
			kids := level[i:min(i+fanout, len(level))]
			node := int64(1)
			if !isRoot {
				node = next
				next++
			}
			clear(buf)
			if isRoot {
				binary.BigEndian.PutUint16(buf, uint16(depth))
			}
			binary.BigEndian.PutUint16(buf[2:], uint16(len(kids)))
			box := kids[0]
			for j, k := range kids {
				c := buf[4+j*cell:]
				binary.BigEndian.PutUint64(c, uint64(k.id))
				for n, v := range [4]float32{k.minX, k.maxX, k.minY, k.maxY} {
					binary.BigEndian.PutUint32(c[8+4*n:], math.Float32bits(v))
				}
				box = box.union(k)
				if depth == 0 {
					leaves = append(leaves, [2]int64{k.id, node})
				} else if err := parents.add(k.id, node); err != nil {
					return fmt.Errorf("spatial index of %s: %w", t, err)
				}
			}
			if _, err := insNode.ExecContext(ctx, node, buf); err != nil {
				return fmt.Errorf("spatial index of %s: %w", t, err)
			}
			box.id = node
			up = append(up, box)
		}
		if isRoot {
			break
		}
		level, depth = up, depth+1
	}
	slices.SortFunc(leaves, func(a, b [2]int64) int { return cmp.Compare(a[0], b[0]) })
	for _, l := range leaves {
		if err := rows.add(l[0], l[1]); err != nil {
			return fmt.Errorf("spatial index of %s: %w", t, err)
		}
	}
	if err := rows.write(); err != nil {
		return fmt.Errorf("spatial index of %s: %w", t, err)
	}
	if err := parents.write(); err != nil {
		return fmt.Errorf("spatial index of %s: %w", t, err)
	}
	return nil
}

// packSTR orders boxes for packing into nodes of fanout entries (Leutenegger
// et al., Sort-Tile-Recursive): into vertical slices by x, each sorted by
// y, so that consecutive runs of fanout boxes are compact.
func packSTR(boxes []rtreeBox, fanout int) {
	cx := func(b rtreeBox) float32 { return b.minX/2 + b.maxX/2 }
	cy := func(b rtreeBox) float32 { return b.minY/2 + b.maxY/2 }
	slices.SortFunc(boxes, func(a, b rtreeBox) int {
		if c := cmp.Compare(cx(a), cx(b)); c != 0 {
			return c
		}
		return cmp.Compare(cy(a), cy(b))
	})
	nodes := (len(boxes) + fanout - 1) / fanout
	per := int(math.Ceil(math.Sqrt(float64(nodes)))) * fanout
	for i := 0; i < len(boxes); i += per {
		s := boxes[i:min(i+per, len(boxes))]
		slices.SortFunc(s, func(a, b rtreeBox) int {
			if c := cmp.Compare(cy(a), cy(b)); c != 0 {
				return c
			}
			return cmp.Compare(cx(a), cx(b))
		})
	}
}
