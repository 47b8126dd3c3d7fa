package parse

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	gjson "github.com/mmcdole/gofeed/json"
)

// decodeJSONFeed reads a JSON Feed the way gofeed's parser does, but one
// item, and within a malformed item one field, at a time: gofeed decodes
// the document in one json.Unmarshal, so a single item with a string where
// a list belongs would lose every item. A malformed field is skipped and a
// malformed item keeps its other fields; each is named in the warnings. A
// document that is not a JSON object, or whose items are not a list, is an
// error.
func decodeJSONFeed(body []byte) (*gjson.Feed, []string, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, nil, fmt.Errorf("read json feed: %w", err)
	}
	var warnings []string
	rawItems := fields["items"]
	delete(fields, "items")
	feed := &gjson.Feed{}
	for _, problem := range decodeFields(fields, feed) {
		warnings = append(warnings, "feed: "+problem)
	}
	var items []json.RawMessage
	if len(rawItems) > 0 && string(rawItems) != "null" {
		if err := json.Unmarshal(rawItems, &items); err != nil {
			return nil, nil, fmt.Errorf("read json feed: items is %s, not an array", jsonKind(rawItems))
		}
	}
	feed.Items = make([]*gjson.Item, 0, len(items))
	for i, raw := range items {
		it := &gjson.Item{}
		if err := json.Unmarshal(raw, it); err == nil {
			feed.Items = append(feed.Items, it)
			continue
		}
		var itemFields map[string]json.RawMessage
		if err := json.Unmarshal(raw, &itemFields); err != nil {
			warnings = append(warnings, fmt.Sprintf("item %d is %s, not an object; skipped", i+1, jsonKind(raw)))
			continue
		}
		problems := decodeFields(itemFields, it)
		name := fmt.Sprintf("item %d", i+1)
		if it.ID != "" {
			name += fmt.Sprintf(" (id %q)", it.ID)
		}
		for _, p := range problems {
			warnings = append(warnings, name+": "+p)
		}
		feed.Items = append(feed.Items, it)
	}
	return feed, warnings, nil
}

// decodeFields decodes each of fields into v on its own, and returns a
// sentence for each that does not fit its place, in key order. The fields
// gofeed's UnmarshalJSON methods coerce ("id" of an item, "expired" of a
// feed) go last: those methods reset them on every call.
func decodeFields(fields map[string]json.RawMessage, v any) []string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if coerced(a) != coerced(b) {
			if coerced(a) {
				return 1
			}
			return -1
		}
		return strings.Compare(a, b)
	})
	var problems []string
	for _, k := range keys {
		one, err := json.Marshal(map[string]json.RawMessage{k: fields[k]})
		if err == nil {
			err = json.Unmarshal(one, v)
		}
		if err == nil {
			continue
		}
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			problems = append(problems, fmt.Sprintf("%q is %s, not %s; field ignored", k, article(te.Value), goKind(te.Type)))
			continue
		}
		problems = append(problems, fmt.Sprintf("%q: %v; field ignored", k, err))
	}
	return problems
}

func coerced(key string) bool { return key == "id" || key == "expired" }

// jsonKind names the kind of a JSON value: "a string", "an object", …
func jsonKind(raw json.RawMessage) string {
	s := strings.TrimSpace(string(raw))
	switch {
	case s == "":
		return "empty"
	case s[0] == '"':
		return "a string"
	case s[0] == '{':
		return "an object"
	case s[0] == '[':
		return "an array"
	case s == "true" || s == "false":
		return "a boolean"
	case s == "null":
		return "null"
	}
	return "a number"
}

// article puts "a" or "an" before encoding/json's name for a JSON kind.
func article(kind string) string {
	switch kind {
	case "array", "object":
		return "an " + kind
	case "bool":
		return "a boolean"
	}
	return "a " + kind
}

// goKind names what JSON Feed wants where a Go type of t is decoded.
func goKind(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "a value"
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	}
	return "a number"
}
