package store

import (
	"database/sql"
	"fmt"
)

// Nesting: a list may contain other lists. Cycles are refused, and chains
// are at most MaxListDepth levels, so membership evaluation always ends.

// addSublist nests sub in list, refusing cycles and excessive depth.
func addSublist(tx *Tx, list, sub int64) error {
	if list == sub {
		return ErrListCycle
	}
	edges, err := loadEdges(tx.Query)
	if err != nil {
		return err
	}
	edges[list] = append(edges[list], sub)
	// A cycle exists when list is reachable from sub.
	if reaches(edges, sub, list, map[int64]bool{}) {
		return ErrListCycle
	}
	if depth(edges, list, 0) > MaxListDepth || heightAbove(edges, list) > MaxListDepth {
		return fmt.Errorf("%w: at most %d levels", ErrListDepth, MaxListDepth)
	}
	_, err = tx.Exec(`INSERT INTO list_members (list_id, sublist_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, list, sub)
	return err
}

type queryFunc func(query string, args ...any) (*sql.Rows, error)

// loadEdges reads every nesting: parent -> children.
func loadEdges(q queryFunc) (map[int64][]int64, error) {
	rows, err := q(`SELECT list_id, sublist_id FROM list_members WHERE sublist_id != 0`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	edges := map[int64][]int64{}
	for rows.Next() {
		var p, c int64
		if err := rows.Scan(&p, &c); err != nil {
			return nil, err
		}
		edges[p] = append(edges[p], c)
	}
	return edges, rows.Err()
}

func reaches(edges map[int64][]int64, from, to int64, seen map[int64]bool) bool {
	if from == to {
		return true
	}
	if seen[from] {
		return false
	}
	seen[from] = true
	for _, c := range edges[from] {
		if reaches(edges, c, to, seen) {
			return true
		}
	}
	return false
}

// depth is the number of levels below a list (1 for a list with no sublists).
func depth(edges map[int64][]int64, id int64, n int) int {
	if n > MaxListDepth+1 {
		return n
	}
	d := 1
	for _, c := range edges[id] {
		if x := 1 + depth(edges, c, n+1); x > d {
			d = x
		}
	}
	return d
}

// heightAbove is the number of levels from the topmost ancestor down to id.
func heightAbove(edges map[int64][]int64, id int64) int {
	parents := map[int64][]int64{}
	for p, cs := range edges {
		for _, c := range cs {
			parents[c] = append(parents[c], p)
		}
	}
	var up func(id int64, n int) int
	up = func(id int64, n int) int {
		if n > MaxListDepth+1 {
			return n
		}
		h := 0
		for _, p := range parents[id] {
			if x := 1 + up(p, n+1); x > h {
				h = x
			}
		}
		return h
	}
	return up(id, 0) + depth(edges, id, 0)
}
