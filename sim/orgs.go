// Package sim builds synthetic health services: the small demo seeded by
// `wardmail demo` now, and the national-scale population and incident replays
// of `wardmail sim` as they land.
package sim

import (
	_ "embed"
	"encoding/csv"
	"strings"
)

//go:embed data/nhs-organisations.csv
var orgsCSV string

// Org is a real NHS organisation name with its ODS code.
type Org struct {
	Code, Name, Type string
}

// Orgs returns the embedded NHS organisations, in file order.
func Orgs() []Org {
	rows, err := csv.NewReader(strings.NewReader(orgsCSV)).ReadAll()
	if err != nil {
		panic("sim: embedded organisations do not parse: " + err.Error())
	}
	out := make([]Org, 0, len(rows))
	for _, r := range rows[1:] {
		out = append(out, Org{Code: r[0], Name: r[1], Type: r[2]})
	}
	return out
}
