package web

import (
	"errors"
	"net/http"

	"wardmail/directory"
)

// checkText applies the directory's rule for names, roles and sites
// (directory.CheckText, the rule the CSV import and the CLI use) to a
// request field, trimming it in place. A refusal is a 422 problem naming
// the field.
func checkText(jsonField string, f directory.Field, s *string) error {
	v, err := directory.CheckText(f, *s)
	var te *directory.TextError
	if errors.As(err, &te) {
		p := problem(http.StatusUnprocessableEntity, "invalid", "%s", te.Sentence())
		p.Field = jsonField
		return p
	} else if err != nil {
		return err
	}
	*s = v
	return nil
}
