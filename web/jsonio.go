package web

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
)

// maxJSONBody bounds every JSON request body. Message text is sent as JSON
// too, so the cap is the message size limit plus room for the envelope;
// attachments go through uploads (compose.go), which have their own cap.
const maxJSONBody = 4 << 20

// readJSON decodes a request body into v: application/json only, at most
// limit bytes, unknown fields and trailing data refused, each with a
// sentence that says what is wrong.
func readJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "application/json" {
		return problem(http.StatusUnsupportedMediaType, "bad-request", "Send the request body as application/json.")
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonProblem(err, limit)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return problem(http.StatusBadRequest, "bad-request", "The request body holds more than one JSON value.")
	}
	return nil
}

func jsonProblem(err error, limit int64) *Problem {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var big *http.MaxBytesError
	switch {
	case errors.As(err, &big):
		p := problem(http.StatusRequestEntityTooLarge, "too-large", "The request body is larger than %d bytes.", limit)
		return p
	case errors.As(err, &syn):
		return problem(http.StatusBadRequest, "bad-request", "The request body is not valid JSON (at byte %d).", syn.Offset)
	case errors.As(err, &typ):
		p := problem(http.StatusBadRequest, "bad-request", "The field %q must be %s, not %s.", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
		p.Field = typ.Field
		return p
	case errors.Is(err, io.EOF):
		return problem(http.StatusBadRequest, "bad-request", "The request body is empty; it must be a JSON object.")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return problem(http.StatusBadRequest, "bad-request", "The request body ends in the middle of a JSON value.")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		p := problem(http.StatusBadRequest, "bad-request", "The field %q is not one this request takes.", name)
		p.Field = name
		return p
	default:
		return problem(http.StatusBadRequest, "bad-request", "The request body cannot be read: %v.", err)
	}
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "a list"
	case "struct", "map":
		return "an object"
	default:
		return "a number"
	}
}

// writeJSON sends v with status 200 (or the given status).
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	// An encoding error here means the client went away.
	_ = json.NewEncoder(w).Encode(v)
}
