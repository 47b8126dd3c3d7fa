package config

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// schemaNode is the part of a JSON Schema this test reads.
type schemaNode struct {
	Ref                  string                 `json:"$ref"`
	Type                 any                    `json:"type"`
	Properties           map[string]*schemaNode `json:"properties"`
	AdditionalProperties *bool                  `json:"additionalProperties"`
	Items                *schemaNode            `json:"items"`
	OneOf                []*schemaNode          `json:"oneOf"`
	Defs                 map[string]*schemaNode `json:"$defs"`
}

// TestSchemaMatchesStructs keeps config/newsdesk.schema.json honest: at every
// object level its property names are exactly the yaml tags the loader
// accepts, and every object forbids other keys, as the loader does.
func TestSchemaMatchesStructs(t *testing.T) {
	raw, err := os.ReadFile("../../config/newsdesk.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var root schemaNode
	if err := json.Unmarshal(raw, &root); err != nil {
		t.Fatal(err)
	}
	resolve := func(n *schemaNode) *schemaNode {
		if name, ok := strings.CutPrefix(n.Ref, "#/$defs/"); ok {
			return root.Defs[name]
		}
		return n
	}
	// object returns the alternative of n that has properties (the rule is "a word or a map").
	object := func(n *schemaNode) *schemaNode {
		n = resolve(n)
		if n.Properties != nil {
			return n
		}
		for _, alt := range n.OneOf {
			if alt = resolve(alt); alt.Properties != nil {
				return alt
			}
		}
		return nil
	}
	var check func(path string, n *schemaNode, keys []string, field func(key string) reflect.Type)
	check = func(path string, n *schemaNode, keys []string, field func(string) reflect.Type) {
		obj := object(n)
		if obj == nil {
			t.Errorf("%s: schema has no object with properties", path)
			return
		}
		if obj.AdditionalProperties == nil || *obj.AdditionalProperties {
			t.Errorf("%s: schema object must set additionalProperties: false", path)
		}
		var props []string
		for k := range obj.Properties {
			props = append(props, k)
		}
		slices.Sort(props)
		want := slices.Sorted(slices.Values(keys))
		if !slices.Equal(props, want) {
			t.Errorf("%s: schema properties %v, yaml keys %v", path, props, want)
			return
		}
		for _, k := range keys {
			ft := field(k)
			if ft == nil {
				continue
			}
			sub := resolve(obj.Properties[k])
			if ft.Kind() == reflect.Slice {
				if ft.Elem().Kind() != reflect.Struct {
					continue
				}
				ft, sub = ft.Elem(), resolve(sub.Items)
			}
			switch {
			case ft == ruleType:
				check(path+"."+k, sub, ruleKeys, func(string) reflect.Type { return nil })
			case ft == exampleType:
				check(path+"."+k, sub, exampleKeys, func(string) reflect.Type { return nil })
			case ft.Kind() == reflect.Struct && ft != scalarType:
				check(path+"."+k, sub, yamlKeys(ft), structField(ft))
			}
		}
	}
	top := reflect.TypeFor[fileConfig]()
	check("$", &root, yamlKeys(top), structField(top))

	// The rule's nested clauses refer back to the rule itself.
	rule := object(root.Defs["rule"])
	for _, k := range []string{"any", "all"} {
		if rule.Properties[k].Items == nil || rule.Properties[k].Items.Ref != "#/$defs/rule" {
			t.Errorf("rule.%s items must be $ref #/$defs/rule", k)
		}
	}
	if rule.Properties["not"].Ref != "#/$defs/rule" {
		t.Error("rule.not must be $ref #/$defs/rule")
	}
}

func structField(t reflect.Type) func(string) reflect.Type {
	return func(key string) reflect.Type {
		for i := range t.NumField() {
			if tagName(t.Field(i)) == key {
				ft := t.Field(i).Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				return ft
			}
		}
		return nil
	}
}
