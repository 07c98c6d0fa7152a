package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/luxstudio/lux-billing/billing"
)

// refuseDuplicateKeys refuses (EINVALID) a JSON body in which an object names a key twice,
// such as an event with "quantity":1,"quantity":1000000: encoding/json would keep the last
// value (and match keys without regard to case), but a billing body must mean one thing.
// Keys are compared as encoding/json matches them to fields: unescaped, case-insensitively.
// A body that is not JSON is left to the decoder to refuse.
func refuseDuplicateKeys(body []byte) error {
	type frame struct {
		object    bool
		expectKey bool
		name      string // where this value is: events[3]
		keys      []string
		index     int
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var stack []*frame
	// child names the value about to start in the frame on top of the stack.
	child := func() string {
		if len(stack) == 0 {
			return ""
		}
		top := stack[len(stack)-1]
		if top.object {
			return joinPath(top.name, top.keys[len(top.keys)-1])
		}
		name := fmt.Sprintf("%s[%d]", top.name, top.index)
		top.index++
		return name
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // the end, or not JSON: the decoder says what is wrong
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			continue
		}
		if top != nil && top.object && top.expectKey {
			key, _ := tok.(string)
			for _, k := range top.keys {
				if strings.EqualFold(k, key) {
					where := ""
					if top.name != "" {
						where = " in " + top.name
					}
					return invalid("%s is given twice%s: send each field once, so that the body means one thing", billing.Quote(key), where)
				}
			}
			top.keys = append(top.keys, key)
			top.expectKey = false
			continue
		}
		name := child()
		if top != nil && top.object {
			top.expectKey = true
		}
		if d, ok := tok.(json.Delim); ok {
			stack = append(stack, &frame{object: d == '{', expectKey: d == '{', name: name})
		}
	}
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}
