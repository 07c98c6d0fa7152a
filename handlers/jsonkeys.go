package handlers

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/luxstudio/lux-billing/billing"
)

// refuseDuplicateKeys refuses (EINVALID) a JSON body in which an object names a key twice,
// such as an event with "quantity":1,"quantity":1000000: encoding/json would keep the last
// value (and match keys without regard to case), but a billing body must mean one thing.
// Keys are compared as encoding/json matches them to fields: unescaped, case-insensitively.
// A body that is not JSON is left to the decoder to refuse.
//
// It runs on every API body, so it reads tokens with jsontext (no allocation per token) and
// names the place of a duplicate only once one is found.
func refuseDuplicateKeys(body []byte) error {
	// An object's keys so far live in keys[depth], reused from one object to the next at the
	// same depth.
	var stack []jsonFrame
	var keys [][]string
	dec := jsontext.NewDecoder(bytes.NewReader(body), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	for {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil // the end, or not JSON: the decoder says what is wrong
		}
		kind := tok.Kind()
		if kind == '}' || kind == ']' {
			stack = stack[:len(stack)-1]
			continue
		}
		depth := len(stack)
		if depth > 0 && stack[depth-1].object && stack[depth-1].expectKey {
			top := &stack[depth-1]
			key := tok.String()
			for _, k := range keys[depth-1] {
				if strings.EqualFold(k, key) {
					where := ""
					if name := valuePath(stack[:depth-1]); name != "" {
						where = " in " + name
					}
					return invalid("%s is given twice%s: send each field once, so that the body means one thing", billing.Quote(key), where)
				}
			}
			keys[depth-1] = append(keys[depth-1], key)
			top.key, top.expectKey = key, false
			continue
		}
		if depth > 0 {
			if top := &stack[depth-1]; top.object {
				top.expectKey = true
			} else {
				top.index++
			}
		}
		if kind == '{' || kind == '[' {
			stack = append(stack, jsonFrame{object: kind == '{', expectKey: kind == '{'})
			if len(keys) < len(stack) {
				keys = append(keys, nil)
			}
			keys[len(stack)-1] = keys[len(stack)-1][:0]
		}
	}
}

// jsonFrame is an open object or array of a body being read.
type jsonFrame struct {
	object    bool
	expectKey bool
	key       string // objects: the key of the value being read
	index     int    // arrays: the number of values started
}

// valuePath names the value that the open containers lead to, such as events[3].
func valuePath(frames []jsonFrame) string {
	name := ""
	for _, f := range frames {
		if f.object {
			name = joinPath(name, f.key)
		} else {
			name = fmt.Sprintf("%s[%d]", name, f.index-1)
		}
	}
	return name
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}
