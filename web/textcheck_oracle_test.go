package web

import (
	"encoding/json"
	"strings"
)

// validJSONWithNUL is the fuzz oracle: body is JSON and some string in it (key or value)
// decodes to text with a NUL.
func validJSONWithNUL(body []byte) bool {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return false
	}
	return anyNUL(v)
}

func anyNUL(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.IndexByte(x, 0) >= 0
	case []any:
		for _, e := range x {
			if anyNUL(e) {
				return true
			}
		}
	case map[string]any:
		for k, e := range x {
			if strings.IndexByte(k, 0) >= 0 || anyNUL(e) {
				return true
			}
		}
	}
	return false
}
